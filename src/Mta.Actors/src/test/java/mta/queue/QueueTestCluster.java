package mta.queue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import mta.config.MtaConfig;
import mta.delivery.DeliveryAgent;
import mta.dsn.DsnBuilder;
import mta.dsn.NotifyPolicy;
import mta.routing.Route;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;

/**
 * A one-node cluster in the test's JVM for the queue entities: the mail role, sharding, the
 * in-memory journal of Pekko's persistence testkit (or a journal the test gives), and the
 * node's queue ({@link #startQueues}) with a test probe as its delivery agent, so the queues
 * lease work to the test as they would to mta.delivery.
 */
final class QueueTestCluster implements AutoCloseable {
  final ActorTestKit kit;
  final TestProbe<DeliveryAgent.Command> agent;
  private ActorRef<NodeQueue.Command> queue;

  QueueTestCluster(String name) {
    this(name, PersistenceTestKitPlugin.getInstance().config());
  }

  /** With this journal (the plugin's settings and whatever else the node's configuration says) under the test's settings. */
  QueueTestCluster(String name, Config journal) {
    Config config = ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.roles = [ mail ]
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.actor.serialization-bindings { "mta.CborSerializable" = jackson-cbor }
        pekko.loglevel = WARNING
        pekko.coordinated-shutdown.exit-jvm = off
        """).withFallback(journal).withFallback(ConfigFactory.load());
    kit = ActorTestKit.create(name, config);
    var cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    var deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) throw new AssertionError("the test cluster did not come up");
      sleep(Duration.ofMillis(50));
    }
    agent = kit.createTestProbe(DeliveryAgent.Command.class);
  }

  /** The destination queues (sharded) and this node's queue, which leases to the probe, with these settings. */
  ActorRef<NodeQueue.Command> startQueues(MtaConfig config) {
    DestinationQueue.init(kit.system(), config);
    queue = kit.spawn(NodeQueue.create(config.queue()), "queue");
    queue.tell(new NodeQueue.AgentStarted(agent.ref()));
    return queue;
  }

  /**
   * The Message entities with these settings and notice policy, over the queues ({@link
   * #startQueues}): notices go through a {@link Submission} that routes each recipient to
   * smtp:[its domain], as a transport table with one line per domain would.
   */
  void startMessages(MtaConfig config, NotifyPolicy policy) {
    var system = kit.system();
    var submission = new Submission(system, (sender, rcpt) -> new Route("smtp", "[" + rcpt.domain() + "]"), Duration.ofSeconds(10));
    var notices = new Notices(policy,
        new DsnBuilder(config.myhostname(), 50_000, config.queue().maximalQueueLifetime(), Clock.systemUTC()), submission);
    Message.init(system, config, notices, startQueues(config));
  }

  /** What the delivery agent tells its node's queue when a lease is done. */
  void completed(NodeQueue.Lease lease, boolean siteAnswered, int idleConnections) {
    queue.tell(new NodeQueue.LeaseCompleted(lease.id(), lease.route(), siteAnswered, siteAnswered ? "" : "no answer",
        idleConnections));
  }

  /** The queue settings of a node whose configuration file says {@code hocon} (over the defaults). */
  static MtaConfig config(Path dir, String hocon) {
    try {
      var file = Files.writeString(dir.resolve("node.conf"), hocon);
      return MtaConfig.load(Optional.of(file));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The next lease granted to the agent within {@code max}. */
  NodeQueue.Lease nextLease(Duration max) {
    return switch (agent.receiveMessage(max)) {
      case DeliveryAgent.Deliver d -> d.lease();
      case DeliveryAgent.Command other -> throw new AssertionError("unexpected " + other);
    };
  }

  /** No lease is granted for {@code quiet}. */
  void expectNoLease(Duration quiet) {
    agent.expectNoMessage(quiet);
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * The node's queue goes first: it reports to the sharded destination queues as long as it
   * has mail, and a report while sharding shuts down holds the shutdown up.
   */
  @Override
  public void close() {
    if (queue != null) kit.stop(queue);
    kit.shutdownTestKit();
  }
}

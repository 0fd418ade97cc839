package mta.queue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import mta.config.MtaConfig;
import mta.delivery.DeliveryAgent;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;

/**
 * A one-node cluster in the test's JVM for the queue entities: the mail role, sharding, the
 * in-memory journal of Pekko's persistence testkit, and a test probe registered as the
 * node's delivery agent, so the entities lease work to the test as they would to
 * mta.delivery.
 */
final class QueueTestCluster implements AutoCloseable {
  final ActorTestKit kit;
  final TestProbe<DeliveryAgent.Command> agent;

  QueueTestCluster(String name) {
    Config config = ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.roles = [ mail ]
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.actor.serialization-bindings { "mta.CborSerializable" = jackson-cbor }
        pekko.loglevel = WARNING
        """).withFallback(PersistenceTestKitPlugin.getInstance().config()).withFallback(ConfigFactory.load());
    kit = ActorTestKit.create(name, config);
    var cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    var deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) throw new AssertionError("the test cluster did not come up");
      sleep(Duration.ofMillis(50));
    }
    agent = kit.createTestProbe(DeliveryAgent.Command.class);
    kit.system().receptionist().tell(Receptionist.register(DeliveryAgent.SERVICE_KEY, agent.ref()));
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

  /**
   * The next lease granted to the agent within {@code max}, answering the starting queues'
   * questions for leases still held (none) on the way.
   */
  DestinationQueue.Lease nextLease(Duration max) {
    var deadline = System.nanoTime() + max.toNanos();
    while (true) {
      var left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
      switch (agent.receiveMessage(left)) {
        case DeliveryAgent.ReportLeases r -> r.replyTo().tell(new DestinationQueue.LeasesHeld(agent.ref(), List.of(), 0));
        case DeliveryAgent.Deliver d -> {
          return d.lease();
        }
        case DeliveryAgent.Command other -> throw new AssertionError("unexpected " + other);
      }
    }
  }

  /** No lease is granted for {@code quiet} (start-up questions are answered). */
  void expectNoLease(Duration quiet) {
    var deadline = System.nanoTime() + quiet.toNanos();
    while (deadline - System.nanoTime() > 0) {
      switch (pollAgent(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
        case null -> { }
        case DeliveryAgent.ReportLeases r -> r.replyTo().tell(new DestinationQueue.LeasesHeld(agent.ref(), List.of(), 0));
        case DeliveryAgent.Deliver d -> throw new AssertionError("a lease was granted when none should be: " + d.lease());
        case DeliveryAgent.Command other -> throw new AssertionError("unexpected " + other);
      }
    }
  }

  /** The agent's next message within {@code max}, or null. */
  private DeliveryAgent.Command pollAgent(Duration left) {
    try {
      return agent.receiveMessage(left);
    } catch (AssertionError timeout) {
      return null;
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    kit.shutdownTestKit();
  }
}

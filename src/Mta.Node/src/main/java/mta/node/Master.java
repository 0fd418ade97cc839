package mta.node;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import mta.anvil.Anvil;
import mta.anvil.ClientLimits;
import mta.config.MtaConfig;
import mta.net.EventLoops;
import mta.config.PolicySettings;
import mta.delivery.DeliveryAgent;
import mta.delivery.local.LocalTransport;
import mta.management.ManagementServer;
import mta.queue.DestinationQueue;
import mta.queue.NodeQueue;
import mta.queue.Message;
import mta.queue.Notices;
import mta.queue.Submission;
import mta.dsn.DsnBuilder;
import mta.dsn.NotifyClass;
import mta.dsn.NotifyPolicy;
import mta.routing.TransportResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import java.time.Clock;
import mta.queue.QueueScanner;
import mta.smtp.Restrictions;
import mta.smtp.SmtpServer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guardian of a mail node (Postfix's master): joins the cluster (itself, when no seed
 * nodes are configured), starts the sharded queue entities, this node's queue and delivery
 * agent, the cluster's queue scanner, the SMTP listener and the management endpoint. On
 * shutdown the node's queue stops leasing and the listener stops taking connections first, so the
 * deliveries and sessions under way can finish before the shards hand off.
 */
final class Master {
  private static final Logger log = LoggerFactory.getLogger("master");

  private Master() {}

  /**
   * Opens every lookup table and parses every restriction list and the smtp client's TLS and
   * SASL settings once, so a broken table, an unknown restriction or a bad TLS level stops the
   * node at start.
   */
  static void checkTables(MtaConfig config) {
    Restrictions.stages(PolicySettings.load(config));
    DeliveryAgent.checkSettings(config);
  }

  /** How mail made on this node (notices, forwarded copies) is routed and queued. */
  private static Submission submission(ActorSystem<?> system, MtaConfig config, PolicySettings policy) {
    var resolver = TransportResolver.from(config, policy);
    return new Submission(system, (sender, rcpt) -> resolver.resolve(sender, rcpt).route(), Duration.ofSeconds(30));
  }

  /** The bounce daemon's part: who is told what, the reports, and how they are queued. */
  private static Notices notices(MtaConfig config, Submission submission) {
    var c = config.config().getConfig("mta");
    var policy = new NotifyPolicy(NotifyClass.parse(c.getStringList("notify_classes")), c.getString("bounce_notice_recipient"),
        c.getString("\"2bounce_notice_recipient\""), c.getString("delay_notice_recipient"),
        c.getString("double_bounce_sender") + "@" + config.myhostname());
    var builder = new DsnBuilder(config.myhostname(), c.getBytes("bounce_size_limit"), config.queue().maximalQueueLifetime(), Clock.systemUTC());
    return new Notices(policy, builder, submission);
  }

  static Behavior<Void> create(MtaConfig config) {
    return Behaviors.setup(ctx -> {
      var system = ctx.getSystem();
      var cluster = Cluster.get(system);
      var bootstrap = system.settings().config().getBoolean("mta.cluster.bootstrap");
      if (!bootstrap && system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      // One event loop group for all SMTP I/O of this node, in and out: a thread per processor
      // the JVM sees, as for the dispatchers, no thread per connection.
      int processors = Runtime.getRuntime().availableProcessors();
      var loop = EventLoops.create(processors);
      ctx.getLog().info("SMTP I/O: {} event loops on {}", processors, loop.transport());

      var policy = PolicySettings.load(config);
      var submission = submission(system, config, policy);
      // This node's part of every destination queue: a mail goes from its Message entity to the
      // delivery agent here, within the node's share of the destination's window.
      var queue = ctx.spawn(NodeQueue.create(config.queue()), "queue");
      Message.init(system, config, notices(config, submission), queue);
      DestinationQueue.init(system, config);
      Anvil.init(system, ClientLimits.from(config.config(), config.mynetworks()).timeUnit(), Message.MAIL_ROLE);
      var local = LocalTransport.from(config, policy);
      var delivery = ctx.spawn(DeliveryAgent.create(config, loop, local, LocalTransport.virtual(config, policy, local), submission, queue), "delivery");
      var scanner = QueueScanner.create(config.queue().queueRunDelay(), config.config().getConfig("pekko-persistence-jdbc.shared-databases.mta.db"));
      ClusterSingleton.get(system).init(SingletonActor.of(scanner, "queue-scanner")
          .withSettings(ClusterSingletonSettings.create(system).withRole(Message.MAIL_ROLE)));
      var smtpd = ctx.spawn(SmtpServer.create(config, loop), "smtpd");
      ManagementServer.start(system, config);
      JournalCompaction.start(system, config);
      if (bootstrap) {
        // Cluster Bootstrap (deploy/k8s): peers come from discovery, the lowest one forms the
        // cluster. After the management routes exist: they tell it its own contact point.
        ClusterBootstrap.get(Adapter.toClassic(system)).start();
      }

      var shutdown = CoordinatedShutdown.get(system);
      // First of all this node stops leasing and its ready mail goes to the other nodes, and the
      // delivery agent takes no more leases, while this node finishes what it has (Postfix's
      // master stops its smtp first).
      shutdown.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "queue-leave", () ->
          AskPattern.ask(queue, NodeQueue.Leave::new, Duration.ofSeconds(5), system.scheduler()));
      shutdown.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "delivery-leave", () ->
          AskPattern.ask(delivery, DeliveryAgent.Leave::new, Duration.ofSeconds(5), system.scheduler()));
      shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "smtpd-unbind", () ->
          AskPattern.ask(smtpd, SmtpServer.Unbind::new, Duration.ofSeconds(10), system.scheduler()));
      // Sessions finish and deliveries under way report back before the shards hand off.
      shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "smtpd-drain", () ->
          AskPattern.ask(smtpd, SmtpServer.Drain::new, Duration.ofSeconds(60), system.scheduler()));
      shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "delivery-drain", () ->
          AskPattern.ask(delivery, DeliveryAgent.Drain::new, Duration.ofSeconds(60), system.scheduler()));
      shutdown.addTask(CoordinatedShutdown.PhaseActorSystemTerminate(), "netty-stop", () -> {
        var stopped = new CompletableFuture<Done>();
        loop.group().shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> stopped.complete(Done.getInstance()));
        return stopped;
      });
      log.info("daemon started -- configuration {}, smtp={}, journal={}", config.source(), config.listenSmtp(), config.persistence().name().toLowerCase());
      return Behaviors.<Void>empty();
    });
  }
}

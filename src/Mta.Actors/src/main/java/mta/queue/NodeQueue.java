package mta.queue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mta.CborSerializable;
import mta.config.MtaConfig;
import mta.delivery.DeliveryAgent;
import mta.routing.Route;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part of every destination queue (qmgr's active queue, on each node): the
 * ready mail of the messages this node holds, leased to this node's delivery agent within
 * the share of each destination's window that its {@link DestinationQueue} granted
 * ({@link DestinationShare}). A message goes from its Message entity to here and to the
 * agent without leaving the node; what crosses the cluster is the shares and the reports
 * (demand, and the outcomes for the feedback), a few times a second per busy destination,
 * not per message.
 *
 * <p>Reports go out at most every {@link #REPORT_INTERVAL} for a destination that has news,
 * and at once when mail is ready and the node has no share. A lease not reported within
 * {@code delivery_lease_timeout} goes back to the ready list. When the node leaves it stops
 * leasing and lets its ready mail go: the Message entities move to other nodes with their
 * shards, and the queue run that follows the node's removal wakes them there, where they
 * queue their mail again.
 */
public final class NodeQueue extends AbstractBehavior<NodeQueue.Command> {
  public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "node-queue");
  static final Duration REPORT_INTERVAL = Duration.ofMillis(100);
  private static final Logger log = LoggerFactory.getLogger("qmgr");

  public sealed interface Command extends CborSerializable {}

  /** From a Message entity: these recipients of that message are ready for this destination. */
  public record Enqueue(String queueId, String route, List<String> recipients) implements Command {}

  /** From this node's delivery agent, once started: where leases go. */
  public record AgentStarted(ActorRef<DeliveryAgent.Command> agent) implements Command {}

  /**
   * From the delivery agent: a lease is done; {@code siteAnswered} is the concurrency
   * feedback, {@code reason} why the site did not answer, {@code idleConnections} how many
   * connections to this destination the agent now keeps open, idle.
   */
  public record LeaseCompleted(long leaseId, String route, boolean siteAnswered, String reason, int idleConnections)
      implements Command {}

  /** From the delivery agent: it closed an idle connection to this destination; how many it still keeps. */
  public record ConnectionsIdle(String route, int idleConnections) implements Command {}

  /** From the delivery agent when its node is leaving: it does not take this lease. */
  public record LeaseDeclined(long leaseId, String route) implements Command {}

  /**
   * From a destination queue: this node's share of its window ({@code size} deliveries and
   * idle connections), the site dead until {@code deadUntilMillis} (0: it is not), and no
   * lease before {@code notBeforeMillis} (a rate delay that another node's delivery started).
   */
  public record Share(String route, long grant, int size, long deadUntilMillis, String deadReason, long notBeforeMillis)
      implements Command {}

  /** From a destination queue that is starting: this node's report for that destination, now. */
  public record ReportShare(String route, ActorRef<DestinationQueue.Command> replyTo) implements Command {}

  /** From CoordinatedShutdown: the node leaves; it leases nothing more. */
  public record Leave(ActorRef<Done> replyTo) implements Command {}

  private record Report() implements Command {}

  private record Pump(String route) implements Command {}

  private record LeaseExpired(String route, long leaseId) implements Command {}

  /** One delivery's worth of work: some recipients of one message, to one destination. */
  public record Lease(long id, String route, String queueId, List<String> recipients) {}

  public static Behavior<Command> create(MtaConfig.QueueSettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new NodeQueue(ctx, timers, settings)));
  }

  private final TimerScheduler<Command> timers;
  private final MtaConfig.QueueSettings settings;
  private final ClusterSharding sharding;
  private final Map<String, DestinationShare> shares = new HashMap<>();
  private ActorRef<DeliveryAgent.Command> agent;
  private boolean leaving;
  /** Unique across restarts of the node: a late report of an old lease never matches a new one. */
  private long nextLeaseId = System.currentTimeMillis() * 1000;

  private NodeQueue(ActorContext<Command> ctx, TimerScheduler<Command> timers, MtaConfig.QueueSettings settings) {
    super(ctx);
    this.timers = timers;
    this.settings = settings;
    this.sharding = ClusterSharding.get(ctx.getSystem());
    ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, ctx.getSelf()));
    timers.startTimerWithFixedDelay(Report.class, new Report(), REPORT_INTERVAL);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Enqueue.class, this::onEnqueue)
        .onMessage(AgentStarted.class, a -> {
          agent = a.agent();
          shares.keySet().forEach(this::pump);
          return this;
        })
        .onMessage(LeaseCompleted.class, c -> {
          var share = share(c.route());
          if (share.completed(c.leaseId(), c.siteAnswered(), c.reason(), c.idleConnections(), now()) != null) {
            timers.cancel(c.leaseId());
          }
          pump(c.route());
          return this;
        })
        .onMessage(ConnectionsIdle.class, c -> {
          share(c.route()).connectionsIdle(c.idleConnections());
          pump(c.route());
          return this;
        })
        .onMessage(LeaseDeclined.class, d -> {
          if (share(d.route()).giveBack(d.leaseId()) != null) timers.cancel(d.leaseId());
          if (leaving) share(d.route()).takeReady();
          return this;
        })
        .onMessage(LeaseExpired.class, e -> {
          var lease = share(e.route()).giveBack(e.leaseId());
          if (lease != null) {
            log.warn("warning: {}: delivery lease {} for {} expired; trying again", e.route(), e.leaseId(), lease.queueId());
            pump(e.route());
          }
          return this;
        })
        .onMessage(Share.class, this::onShare)
        .onMessage(ReportShare.class, r -> {
          r.replyTo().tell(share(r.route()).report(getContext().getSelf(), now()));
          return this;
        })
        .onMessage(Report.class, r -> report())
        .onMessage(Pump.class, p -> {
          pump(p.route());
          return this;
        })
        .onMessage(Leave.class, this::onLeave)
        .build();
  }

  private Behavior<Command> onEnqueue(Enqueue e) {
    if (leaving) return this;
    var share = share(e.route());
    long now = now();
    var deferNow = share.enqueue(e.queueId(), e.recipients(), now);
    if (!deferNow.isEmpty()) {
      defer(e.queueId(), deferNow, share.deadReason());
      return this;
    }
    pump(e.route());
    if (share.needsShare(now)) sendReport(e.route(), share, now);
    return this;
  }

  private Behavior<Command> onShare(Share s) {
    var share = share(s.route());
    share.granted(s, now()).forEach((queueId, recipients) -> defer(queueId, recipients, s.deadReason()));
    int keep = share.idleToKeep();
    if (keep >= 0 && agent != null) agent.tell(new DeliveryAgent.CloseIdle(s.route(), keep));
    pump(s.route());
    return this;
  }

  /** Leases what the share allows now, and wakes itself when a rate delay holds the rest back. */
  private void pump(String route) {
    if (agent == null || leaving) return;
    var share = share(route);
    long now = now();
    for (var lease : share.grantable(now, () -> nextLeaseId++)) {
      timers.startSingleTimer(lease.id(), new LeaseExpired(route, lease.id()), settings.deliveryLeaseTimeout());
      agent.tell(new DeliveryAgent.Deliver(lease));
    }
    long wait = share.waitsUntilMillis(now);
    if (wait > 0) timers.startSingleTimer("pump " + route, new Pump(route), Duration.ofMillis(wait - now));
  }

  private Behavior<Command> report() {
    long now = now();
    shares.forEach((route, share) -> {
      if (share.reportDue(now)) sendReport(route, share, now);
    });
    shares.values().removeIf(share -> share.unused(now));
    return this;
  }

  private void sendReport(String route, DestinationShare share, long now) {
    sharding.entityRefFor(DestinationQueue.ENTITY_TYPE_KEY, route).tell(share.report(getContext().getSelf(), now));
  }

  /** The site is dead: the recipients wait for their retry time, as after a failed delivery. */
  private void defer(String queueId, List<String> recipients, String reason) {
    var results = recipients.stream()
        .map(r -> RecipientResult.deferred(r, "4.4.1", "delivery temporarily suspended: " + reason))
        .toList();
    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, queueId)
        .tell(new Message.RecordResults(results, getContext().getSystem().ignoreRef()));
  }

  /**
   * Out of the receptionist, so starting queues stop asking this node, and no more leases.
   * The ready mail is let go, not handed to another node's queue: its Message entity will
   * run elsewhere and queue it there, and two nodes must not both have it. The leases under
   * way finish; the reports give their shares back.
   */
  private Behavior<Command> onLeave(Leave l) {
    leaving = true;
    getContext().getSystem().receptionist().tell(Receptionist.deregister(SERVICE_KEY, getContext().getSelf()));
    int ready = shares.values().stream().mapToInt(share -> share.takeReady().size()).sum();
    log.info("stopped leasing; {} ready messages wait for the queue run on the nodes that take them over", ready);
    l.replyTo().tell(Done.getInstance());
    return this;
  }

  private DestinationShare share(String route) {
    return shares.computeIfAbsent(route, r -> new DestinationShare(r, settings.limitsFor(Route.parse(r).transport())));
  }

  private static long now() {
    return System.currentTimeMillis();
  }
}

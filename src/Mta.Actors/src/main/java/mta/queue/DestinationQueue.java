package mta.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import mta.CborSerializable;
import mta.config.MtaConfig;
import mta.delivery.DeliveryAgent;
import mta.management.Metrics;
import mta.routing.Route;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination ({@code transport:nexthop}), sharded and event-sourced: Postfix's
 * per-destination queue in qmgr, and the single authority for that destination in the
 * cluster.
 *
 * <p>It keeps the recipients that are ready to go (handed over by their {@link Message}
 * entities), grants delivery leases to delivery agents on any node within the concurrency
 * window ({@link Feedback}), and learns from each lease whether the site answered. After a
 * failed cohort the site is dead for {@code minimal_backoff_time}: ready mail is deferred at
 * once instead of hammering it. Only that verdict is journaled (a moved queue still knows a
 * dead site); the ready list and the leases are soft state that the Message entities
 * rebuild, since they hand out again whatever got no answer.
 *
 * <p>A lease goes to the delivery agent (found through the receptionist) of the message's
 * home, the node that received it and holds its content ({@link LeaseRouting}); as every node
 * takes mail in, outbound work spreads over the cluster while the window stays one.
 * A connection an agent keeps open, idle, after a lease ({@link CachedConnections}) is a
 * connection at the site too: it counts in the window, and the next lease goes to the agent
 * that holds it, so the limit holds for connections at the site, not only for deliveries.
 * An agent whose node is leaving hands back the leases it is offered; it gets no more.
 * The queue watches every agent it leased to: when an agent's node dies its leases come
 * back to the ready list at once; a lease not reported within {@code delivery_lease_timeout}
 * comes back too. A queue that starts (first use, or after moving to another node) first
 * asks every agent which leases for this destination it still holds and counts those in
 * its window before it grants more, so a move never doubles the concurrency.
 *
 * <p>The window and the recipients per lease are those of the route's transport
 * ({@code <transport>_destination_*}, else the defaults). With a destination_rate_delay the
 * window is one, and the next lease waits that long after the last one came back: being the
 * only one that grants leases here, the queue paces the destination for the whole cluster.
 */
public final class DestinationQueue
    extends EventSourcedBehavior<DestinationQueue.Command, DestinationQueue.Event, DestinationQueue.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "DestinationQueue");
  /** How long a starting queue waits for the agents' reports of leases they still hold. */
  private static final Duration ADOPTION_WAIT = Duration.ofSeconds(3);
  private static final Logger log = LoggerFactory.getLogger("qmgr");

  // --- commands -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** From a Message entity: these recipients of that message are ready for this destination. */
  public record Enqueue(String queueId, List<String> recipients) implements Command {}

  /**
   * From a delivery agent: a lease is done; {@code siteAnswered} is the concurrency feedback,
   * {@code reason} why the site did not answer (empty when it did), {@code idleConnections} how
   * many connections to this destination the agent now keeps open, idle.
   */
  public record LeaseCompleted(long leaseId, ActorRef<DeliveryAgent.Command> agent, boolean siteAnswered, String reason,
      int idleConnections) implements Command {}

  /** From a delivery agent: it closed an idle connection to this destination; how many it still keeps. */
  public record ConnectionsIdle(ActorRef<DeliveryAgent.Command> agent, int idleConnections) implements Command {}

  /** From a delivery agent whose node is leaving: it does not take this lease; someone else will. */
  public record LeaseDeclined(long leaseId, ActorRef<DeliveryAgent.Command> agent) implements Command {}

  /**
   * From a delivery agent, when a queue starts: the leases for this destination it still
   * holds, and how many connections to it it keeps open, idle.
   */
  public record LeasesHeld(ActorRef<DeliveryAgent.Command> agent, List<Lease> leases, int idleConnections)
      implements Command {}

  /** From the shard, to hand this queue off: waits behind a SiteDied/SiteRevived write under way. */
  public record Stop() implements Command {}

  private record LeaseExpired(long leaseId) implements Command {}

  private record AgentsChanged(Receptionist.Listing listing) implements Command {}

  private record AgentGone(ActorRef<DeliveryAgent.Command> agent) implements Command {}

  private record AdoptionOver() implements Command {}

  private record Revive() implements Command {}

  /** destination_rate_delay has passed since the last delivery: the next may go. */
  private record RateDelayOver() implements Command {}

  /** One delivery's worth of work: some recipients of one message, to this destination. */
  public record Lease(long id, String route, String queueId, List<String> recipients) implements CborSerializable {}

  // --- events and state -----------------------------------------------------------------

  public sealed interface Event extends CborSerializable {}

  public record SiteDied(String reason, long untilMillis) implements Event {}

  public record SiteRevived() implements Event {}

  public sealed interface State extends CborSerializable {}

  /** Deliveries go out, within the window. */
  public record Open() implements State {}

  /** The site failed a cohort: mail to it is deferred until {@code untilMillis}. */
  public record Dead(String reason, long untilMillis) implements State {}

  // --- set-up ---------------------------------------------------------------------------

  public static void init(ActorSystem<?> system, MtaConfig config) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), config.queue()))
        .withStopMessage(new Stop()).withRole(Message.MAIL_ROLE));
  }

  static Behavior<Command> create(String route, MtaConfig.QueueSettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new DestinationQueue(route, settings, ctx, timers)));
  }

  private final String route;
  private final MtaConfig.QueueSettings settings;
  private final TimerScheduler<Command> timers;
  private final ActorContext<Command> ctx;
  private final ClusterSharding sharding;
  private final ActorRef<org.apache.pekko.Done> noReply;
  /** This destination's transport's limits ({@code <transport>_destination_*}, else the defaults). */
  private final MtaConfig.DestinationLimits limits;
  private final Feedback feedback;
  /** With a destination_rate_delay: no lease is granted before this time (the last delivery's end plus the delay). */
  private long rateDelayedUntilMillis;
  /** Ready recipients per queue id, oldest first: fresh and retried mail wait in one line. */
  private final LinkedHashMap<String, LinkedHashSet<String>> ready = new LinkedHashMap<>();
  private final Map<Long, Held> leases = new HashMap<>();
  private List<ActorRef<DeliveryAgent.Command>> agents = List.of();
  private final CachedConnections<ActorRef<DeliveryAgent.Command>> idle = new CachedConnections<>();
  /** Each agent's node, as a home tag (QueueId): a message's lease goes to the agent of its home first. */
  private final Map<ActorRef<DeliveryAgent.Command>, String> agentHomes = new HashMap<>();
  private final LeaseRouting<ActorRef<DeliveryAgent.Command>> routing;
  /** Agents that declined a lease (their node is leaving) but are still listed: no leases for them. */
  private final Set<ActorRef<DeliveryAgent.Command>> leaving = new HashSet<>();
  private final Set<ActorRef<DeliveryAgent.Command>> watched = new HashSet<>();
  /** Until the agents have said which leases they still hold, nothing new is granted. */
  private boolean adopting = true;
  private int reportsAwaited = -1;
  /** Unique across incarnations of this queue: an adopted lease never shares an id with a new one. */
  private long nextLeaseId = System.currentTimeMillis() * 1000;

  private record Held(Lease lease, ActorRef<DeliveryAgent.Command> agent) {}

  private DestinationQueue(String route, MtaConfig.QueueSettings settings, ActorContext<Command> ctx, TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), route));
    this.route = route;
    this.settings = settings;
    this.timers = timers;
    this.ctx = ctx;
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.noReply = ctx.getSystem().ignoreRef();
    var selfAddress = Cluster.get(ctx.getSystem()).selfMember().address();
    this.routing = new LeaseRouting<>(idle,
        agent -> agentHomes.computeIfAbsent(agent, a -> QueueId.homeTag(MessageShards.nodeOf(a.path(), selfAddress))));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(DeliveryAgent.SERVICE_KEY,
        ctx.messageAdapter(Receptionist.Listing.class, AgentsChanged::new)));
    timers.startSingleTimer(AdoptionOver.class, new AdoptionOver(), ADOPTION_WAIT);
    this.limits = settings.limitsFor(Route.parse(route).transport());
    // As in Postfix, a destination with a rate delay gets one delivery at a time.
    this.feedback = limits.rateDelay().isZero()
        ? new Feedback(limits.initialConcurrency(), limits.concurrencyLimit())
        : new Feedback(1, 1);
  }

  @Override
  public State emptyState() {
    return new Open();
  }

  /** No snapshots are taken, so recovery does not ask the snapshot store (one query less per start). */
  @Override
  public SnapshotSelectionCriteria snapshotSelectionCriteria() {
    return SnapshotSelectionCriteria.none();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    var b = newCommandHandlerBuilder();
    b.forAnyState()
        .onCommand(Stop.class, (s, c) -> Effect().stop())
        .onCommand(AgentsChanged.class, (s, c) -> agentsChanged(c))
        .onCommand(LeasesHeld.class, (s, c) -> adopt(c))
        .onCommand(AdoptionOver.class, (s, c) -> adoptionOver())
        .onCommand(AgentGone.class, (s, c) -> agentGone(c.agent()))
        .onCommand(ConnectionsIdle.class, (s, c) -> connectionsIdle(c))
        .onCommand(LeaseDeclined.class, (s, c) -> leaseDeclined(c));
    b.forStateType(Open.class)
        .onCommand(Enqueue.class, (s, c) -> enqueue(c))
        .onCommand(LeaseCompleted.class, this::leaseCompleted)
        .onCommand(LeaseExpired.class, (s, c) -> leaseExpired(c))
        .onCommand(Revive.class, (s, c) -> Effect().none())
        .onCommand(RateDelayOver.class, (s, c) -> {
          pump();
          return Effect().none();
        });
    b.forStateType(Dead.class)
        .onCommand(Enqueue.class, (s, c) -> s.untilMillis() <= System.currentTimeMillis()
            ? Effect().persist(new SiteRevived()).thenRun(x -> revived()).thenRun(x -> enqueue(c))
            : deferNow(s, c.queueId(), c.recipients()))
        .onCommand(LeaseCompleted.class, (s, c) -> {
          idle.report(c.agent(), c.idleConnections());
          return forgetLease(c.leaseId());
        })
        .onCommand(LeaseExpired.class, (s, c) -> forgetLease(c.leaseId()))
        .onCommand(Revive.class, (s, c) -> Effect().persist(new SiteRevived()).thenRun(x -> revived()))
        .onCommand(RateDelayOver.class, (s, c) -> Effect().none());
    return b.build();
  }

  private Effect<Event, State> enqueue(Enqueue c) {
    log.debug("{}: enqueue {} {}", route, c.queueId(), c.recipients());
    // A Message entity hands out again what got no answer yet: take only what is not out already.
    var out = leases.values().stream().map(Held::lease).filter(l -> l.queueId().equals(c.queueId()))
        .flatMap(l -> l.recipients().stream()).collect(Collectors.toSet());
    var waiting = ready.computeIfAbsent(c.queueId(), id -> new LinkedHashSet<>());
    c.recipients().stream().filter(r -> !out.contains(r)).forEach(waiting::add);
    if (waiting.isEmpty()) ready.remove(c.queueId());
    pump();
    return Effect().none();
  }

  private Effect<Event, State> leaseCompleted(Open state, LeaseCompleted c) {
    // Even for a lease this queue forgot (expired, or granted before a move): the connection is real.
    idle.report(c.agent(), c.idleConnections());
    watch(c.agent());
    if (leases.remove(c.leaseId()) == null) {
      pump();
      return Effect().none();
    }
    timers.cancel(c.leaseId());
    boolean cohortFailed = !c.siteAnswered() && feedback.failure();
    if (c.siteAnswered()) feedback.success();
    rateDelay();
    Metrics.concurrencyWindow(route, feedback.window());
    if (cohortFailed) {
      long until = System.currentTimeMillis() + settings.minimalBackoffTime().toMillis();
      return Effect().persist(new SiteDied(c.reason(), until)).thenRun(s -> deferAllReady((Dead) s));
    }
    pump();
    return Effect().none();
  }

  private Effect<Event, State> leaseExpired(LeaseExpired c) {
    var held = leases.remove(c.leaseId());
    if (held != null) {
      log.warn("warning: {}: delivery lease {} for {} expired; trying again", route, c.leaseId(), held.lease().queueId());
      giveBack(held.lease());
      pump();
    }
    return Effect().none();
  }

  private void giveBack(Lease lease) {
    ready.computeIfAbsent(lease.queueId(), id -> new LinkedHashSet<>()).addAll(lease.recipients());
  }

  private Effect<Event, State> connectionsIdle(ConnectionsIdle c) {
    idle.report(c.agent(), c.idleConnections());
    pump();
    return Effect().none();
  }

  /** The agent's node is leaving: the lease goes to another agent, and this one gets no more. */
  private Effect<Event, State> leaseDeclined(LeaseDeclined c) {
    leaving.add(c.agent());
    var held = leases.remove(c.leaseId());
    if (held != null) {
      timers.cancel(c.leaseId());
      log.info("{}: delivery agent {} is leaving; lease {} for {} goes to another", route, c.agent().path(), c.leaseId(),
          held.lease().queueId());
      giveBack(held.lease());
    }
    pump();
    return Effect().none();
  }

  private Effect<Event, State> agentsChanged(AgentsChanged c) {
    agents = List.copyOf(c.listing().getServiceInstances(DeliveryAgent.SERVICE_KEY));
    leaving.retainAll(agents);
    agentHomes.keySet().retainAll(agents);
    if (adopting && reportsAwaited < 0) {
      reportsAwaited = agents.size();
      var replyTo = ctx.getSelf();
      agents.forEach(a -> a.tell(new DeliveryAgent.ReportLeases(route, replyTo)));
      if (reportsAwaited == 0) return adoptionOver();
    }
    pump();
    return Effect().none();
  }

  private Effect<Event, State> adopt(LeasesHeld c) {
    idle.report(c.agent(), c.idleConnections());
    watch(c.agent());
    for (var lease : c.leases()) {
      if (leases.containsKey(lease.id())) continue;
      leases.put(lease.id(), new Held(lease, c.agent()));
      timers.startSingleTimer(lease.id(), new LeaseExpired(lease.id()), settings.deliveryLeaseTimeout());
      nextLeaseId = Math.max(nextLeaseId, lease.id() + 1);
      // A Message entity may have handed these recipients here before the agent's report came: they are out already.
      var waiting = ready.get(lease.queueId());
      if (waiting != null) {
        lease.recipients().forEach(waiting::remove);
        if (waiting.isEmpty()) ready.remove(lease.queueId());
      }
    }
    if (adopting && --reportsAwaited <= 0) return adoptionOver();
    return Effect().none();
  }

  private Effect<Event, State> adoptionOver() {
    if (adopting) {
      adopting = false;
      timers.cancel(AdoptionOver.class);
      if (!leases.isEmpty()) log.info("{}: adopted {} delivery leases still under way", route, leases.size());
      pump();
    }
    return Effect().none();
  }

  /** The agent's node is gone: whatever it held goes back to the ready list now. */
  private Effect<Event, State> agentGone(ActorRef<DeliveryAgent.Command> agent) {
    watched.remove(agent);
    idle.forget(agent);
    leaving.remove(agent);
    var lost = leases.values().stream().filter(h -> h.agent().equals(agent)).toList();
    for (var held : lost) {
      leases.remove(held.lease().id());
      timers.cancel(held.lease().id());
      giveBack(held.lease());
    }
    if (!lost.isEmpty()) log.warn("warning: {}: delivery agent {} is gone; {} leases back in the queue", route, agent.path(), lost.size());
    pump();
    return Effect().none();
  }

  private void watch(ActorRef<DeliveryAgent.Command> agent) {
    if (watched.add(agent)) ctx.watchWith(agent, new AgentGone(agent));
  }

  private Effect<Event, State> forgetLease(long leaseId) {
    leases.remove(leaseId);
    timers.cancel(leaseId);
    return Effect().none();
  }

  /** The site's time is up: start again from the initial window (Postfix probes a dead site the same way). */
  private void revived() {
    log.info("{}: site revived", route);
    feedback.reset();
    Metrics.concurrencyWindow(route, feedback.window());
    pump();
  }

  /** destination_rate_delay: the next delivery starts no sooner than this long after this one ended. */
  private void rateDelay() {
    if (limits.rateDelay().isZero()) return;
    rateDelayedUntilMillis = System.currentTimeMillis() + limits.rateDelay().toMillis();
    timers.startSingleTimer(RateDelayOver.class, new RateDelayOver(), limits.rateDelay());
  }

  /**
   * Grants leases while the window has room (LeaseRouting picks the message and the agent:
   * the oldest, at home, over an idle connection where one is open), as long as leases and
   * idle connections together stay within the window; none while a rate delay runs (its
   * timer pumps again).
   */
  private void pump() {
    if (adopting || System.currentTimeMillis() < rateDelayedUntilMillis) return;
    var candidates = agents.stream().filter(a -> !leaving.contains(a)).toList();
    while (leases.size() < feedback.window()) {
      var grant = routing.next(ready, candidates, leases.size() + idle.total() < feedback.window());
      if (grant == null) return;
      var agent = grant.agent();
      var queueId = grant.queueId();
      var waiting = ready.get(queueId);
      var batch = new ArrayList<String>();
      var it = waiting.iterator();
      while (it.hasNext() && batch.size() < limits.recipientLimit()) {
        batch.add(it.next());
        it.remove();
      }
      if (waiting.isEmpty()) ready.remove(queueId);
      var lease = new Lease(nextLeaseId++, route, queueId, batch);
      leases.put(lease.id(), new Held(lease, agent));
      watch(agent);
      timers.startSingleTimer(lease.id(), new LeaseExpired(lease.id()), settings.deliveryLeaseTimeout());
      agent.tell(new DeliveryAgent.Deliver(lease));
    }
  }

  private void deferAllReady(Dead dead) {
    log.info("{}: site is dead until {}: {}", route, java.time.Instant.ofEpochMilli(dead.untilMillis()), dead.reason());
    new ArrayList<>(ready.entrySet()).forEach(e -> deferNow(dead, e.getKey(), List.copyOf(e.getValue())));
    ready.clear();
    scheduleRevive(dead);
  }

  private Effect<Event, State> deferNow(Dead dead, String queueId, List<String> recipients) {
    log.debug("{}: dead, defer {}", route, queueId);
    var results = recipients.stream()
        .map(r -> RecipientResult.deferred(r, "4.4.1", "delivery temporarily suspended: " + dead.reason()))
        .toList();
    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, queueId).tell(new Message.RecordResults(results, noReply));
    return Effect().none();
  }

  private void scheduleRevive(Dead dead) {
    log.debug("{}: revive at {}", route, dead.untilMillis());
    timers.startSingleTimer("revive", new Revive(), Duration.ofMillis(Math.max(0, dead.untilMillis() - System.currentTimeMillis())));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forAnyState()
        .onEvent(SiteDied.class, (s, e) -> new Dead(e.reason(), e.untilMillis()))
        .onEvent(SiteRevived.class, (s, e) -> new Open());
    return b.build();
  }

  /** A queue that wakes up dead (after a move or a restart) still waits out the site's time. */
  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.class, (state, signal) -> {
          if (state instanceof Dead dead) scheduleRevive(dead);
        })
        .build();
  }
}

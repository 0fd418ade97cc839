package mta.queue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import mta.CborSerializable;
import mta.config.MtaConfig;
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
 * <p>It holds the destination's concurrency window ({@link Feedback}) and divides it among
 * the nodes ({@link ShareAllocation}): each node's {@link NodeQueue} leases its own ready
 * mail to its own delivery agent within its share, so a message does not cross the cluster
 * on its way out, while the window stays one. The nodes report their demand and the
 * outcomes (did the site answer?) a few times a second; from those the window grows and
 * shrinks as Postfix's does, and the shares follow the demand. A connection an agent keeps
 * open, idle, counts in its node's share: the limit holds for connections at the site, not
 * only for deliveries.
 *
 * <p>After a failed cohort the site is dead for {@code minimal_backoff_time}: every node
 * hears it with a share of none, and defers its ready mail at once instead of hammering the
 * site. Only that verdict is journaled (a moved queue still knows a dead site); the shares
 * are soft state. A queue that starts (first use, or after moving to another node) first
 * asks every node for its report and counts what they hold before it grants anything, so
 * a move never doubles the concurrency; it watches the nodes it granted to, and a node's
 * share is free again when the node is gone.
 *
 * <p>The window and the recipients per lease are those of the route's transport
 * ({@code <transport>_destination_*}, else the defaults). With a destination_rate_delay the
 * window is one: the node that holds it waits that long between deliveries, and a node that
 * gets it next waits that long after the last delivery another node reported.
 */
public final class DestinationQueue
    extends EventSourcedBehavior<DestinationQueue.Command, DestinationQueue.Event, DestinationQueue.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "DestinationQueue");
  /** How long a starting queue waits for the nodes' reports of what they still hold. */
  private static final Duration ADOPTION_WAIT = Duration.ofSeconds(3);
  private static final Logger log = LoggerFactory.getLogger("qmgr");

  // --- commands -------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /**
   * From a node: the grant it holds and its share, its ready messages, its deliveries and
   * idle connections at the site ({@code inUse}), and since its last report the deliveries
   * that reached the site, the ones that did not ({@code failures}, the last
   * {@code failuresSinceSuccess} of them after the last success, {@code reason} the last
   * one's), and when its last delivery ended.
   */
  public record ShareReport(ActorRef<NodeQueue.Command> node, long grant, int share, int ready, int inUse,
      int successes, int failures, int failuresSinceSuccess, String reason, long lastEndMillis) implements Command {}

  /** From the shard, to hand this queue off: waits behind a SiteDied/SiteRevived write under way. */
  public record Stop() implements Command {}

  private record NodesChanged(Receptionist.Listing listing) implements Command {}

  private record NodeGone(ActorRef<NodeQueue.Command> node) implements Command {}

  private record AdoptionOver() implements Command {}

  private record Revive() implements Command {}

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
  /** This destination's transport's limits ({@code <transport>_destination_*}, else the defaults). */
  private final MtaConfig.DestinationLimits limits;
  private final Feedback feedback;
  /** Unique across incarnations of this queue: a node's report tells whether its share is this one's. */
  private final ShareAllocation<ActorRef<NodeQueue.Command>> shares =
      new ShareAllocation<>(System.currentTimeMillis() * 1000);
  private final Set<ActorRef<NodeQueue.Command>> watched = new HashSet<>();
  /** Until the nodes have said what they hold, nothing is granted. */
  private boolean adopting = true;
  private Set<ActorRef<NodeQueue.Command>> reportsAwaited;
  /** When the last delivery anywhere ended (for the rate delay). */
  private long lastEndMillis;

  private DestinationQueue(String route, MtaConfig.QueueSettings settings, ActorContext<Command> ctx, TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), route));
    this.route = route;
    this.settings = settings;
    this.timers = timers;
    this.ctx = ctx;
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(NodeQueue.SERVICE_KEY,
        ctx.messageAdapter(Receptionist.Listing.class, NodesChanged::new)));
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
        .onCommand(NodesChanged.class, (s, c) -> nodesChanged(s, c))
        .onCommand(AdoptionOver.class, (s, c) -> {
          adoptionOver();
          return allocated(s);
        })
        .onCommand(NodeGone.class, (s, c) -> {
          watched.remove(c.node());
          shares.forget(c.node());
          return allocated(s);
        });
    b.forStateType(Open.class)
        .onCommand(ShareReport.class, this::reportWhileOpen)
        .onCommand(Revive.class, (s, c) -> Effect().none());
    b.forStateType(Dead.class)
        .onCommand(ShareReport.class, this::reportWhileDead)
        .onCommand(Revive.class, (s, c) -> Effect().persist(new SiteRevived()).thenRun(this::revived));
    return b.build();
  }

  private Effect<Event, State> reportWhileOpen(Open state, ShareReport r) {
    heard(r);
    // The order within a report is not known: the failures before the last success, the successes, then the rest.
    for (int i = r.failuresSinceSuccess(); i < r.failures(); i++) feedback.failure();
    for (int i = 0; i < r.successes(); i++) feedback.success();
    boolean cohortFailed = false;
    for (int i = 0; i < r.failuresSinceSuccess(); i++) cohortFailed |= feedback.failure();
    if (r.successes() + r.failures() > 0) Metrics.concurrencyWindow(route, feedback.window());
    if (cohortFailed) {
      long until = System.currentTimeMillis() + settings.minimalBackoffTime().toMillis();
      return Effect().persist(new SiteDied(r.reason(), until)).thenRun(s -> died((Dead) s));
    }
    return allocated(state);
  }

  private Effect<Event, State> reportWhileDead(Dead dead, ShareReport r) {
    heard(r);
    if (r.ready() == 0) return Effect().none();
    if (dead.untilMillis() <= System.currentTimeMillis()) {
      return Effect().persist(new SiteRevived()).thenRun(this::revived);
    }
    // Mail came in at a node after the news: it is deferred there too.
    r.node().tell(new NodeQueue.Share(route, 0, 0, dead.untilMillis(), dead.reason(), 0));
    return Effect().none();
  }

  private void heard(ShareReport r) {
    if (watched.add(r.node())) ctx.watchWith(r.node(), new NodeGone(r.node()));
    shares.report(r.node(), r.grant(), r.share(), r.ready(), r.inUse());
    lastEndMillis = Math.max(lastEndMillis, r.lastEndMillis());
    if (adopting && reportsAwaited != null && reportsAwaited.remove(r.node()) && reportsAwaited.isEmpty()) adoptionOver();
  }

  private Effect<Event, State> nodesChanged(State state, NodesChanged c) {
    if (adopting && reportsAwaited == null) {
      reportsAwaited = new HashSet<>(c.listing().getServiceInstances(NodeQueue.SERVICE_KEY));
      var replyTo = ctx.getSelf();
      reportsAwaited.forEach(node -> node.tell(new NodeQueue.ReportShare(route, replyTo)));
      if (reportsAwaited.isEmpty()) adoptionOver();
    }
    return allocated(state);
  }

  private void adoptionOver() {
    if (!adopting) return;
    adopting = false;
    timers.cancel(AdoptionOver.class);
  }

  /** The shares follow the demand now (none while the nodes' reports are awaited, or the site is dead). */
  private Effect<Event, State> allocated(State state) {
    if (adopting || !(state instanceof Open)) return Effect().none();
    long now = System.currentTimeMillis();
    long notBefore = limits.rateDelay().isZero() || lastEndMillis == 0 ? 0 : lastEndMillis + limits.rateDelay().toMillis();
    shares.allocate(feedback.window(), now)
        .forEach((node, grant) -> node.tell(new NodeQueue.Share(route, grant.id(), grant.size(), 0, "", notBefore)));
    return Effect().none();
  }

  private void died(Dead dead) {
    log.info("{}: site is dead until {}: {}", route, java.time.Instant.ofEpochMilli(dead.untilMillis()), dead.reason());
    shares.revokeAll().forEach((node, grant) ->
        node.tell(new NodeQueue.Share(route, grant.id(), 0, dead.untilMillis(), dead.reason(), 0)));
    scheduleRevive(dead);
  }

  /** The site's time is up: start again from the initial window (Postfix probes a dead site the same way). */
  private void revived(State open) {
    log.info("{}: site revived", route);
    feedback.reset();
    Metrics.concurrencyWindow(route, feedback.window());
    allocated(open);
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

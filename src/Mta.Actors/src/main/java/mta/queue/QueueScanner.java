package mta.queue;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue run: like Postfix's qmgr scanning its queue directories at start and every
 * {@code queue_run_delay}, this first removes finished messages from the journal, then wakes
 * Message entities ({@link QueueDirectory}), so mail whose entity is not running (after a
 * crash, a restart, passivation or a node's loss) is picked up again. Waking is idempotent.
 * One scanner runs per cluster (a cluster singleton).
 *
 * <p>Most runs are due runs: they wake the deferred messages that fell due since the last
 * run, found by their due tags, and cost what falls due, not what waits (a million deferred
 * messages must not make every run read a million). A full run wakes every message that is
 * not asleep: at start, after a node was lost (its messages' entities went with it), and
 * once every {@link Runs#FULL_RUN_EVERY} for whatever else lost its entity. At start and after
 * a loss a second full run follows {@link Runs#SETTLE} later, not at the next queue run:
 * sharding delivers at most once, and a wake sent while the coordinator still placed the lost
 * node's shards on it went to the dead node, which would leave that mail waiting for the hourly
 * run.
 */
public final class QueueScanner {
  private static final Logger log = LoggerFactory.getLogger("qmgr");

  public sealed interface Command {}

  private record Scan() implements Command {}

  private record NodeLost(ClusterEvent.MemberRemoved removed) implements Command {}

  /** {@code top}: the last ordering the journal had given when the run began. */
  private record ScanDone(long removed, long top, long woken, Throwable failure) implements Command {}

  /**
   * Which run comes next. {@code dueSinceMillis}: a due run wakes what fell due after this;
   * {@code lastFullMillis}: when the last full run started (0: none yet); {@code fullOwed}: a
   * node was lost, or none ran yet; {@code againAtMillis}: a full run is owed again from then
   * (0: not); {@code finishedAfter}: a due run removes the finished messages whose Completed
   * event is later than this ordering; {@code lastTop}: the journal's last ordering when the
   * last run began.
   */
  record Runs(long dueSinceMillis, long lastFullMillis, boolean fullOwed, long againAtMillis, long finishedAfter, long lastTop) {
    /** A safety net: an entity passivated with a retry timer still running is found within this. */
    static final Duration FULL_RUN_EVERY = Duration.ofHours(1);
    /** Longer than sharding takes to reallocate a lost node's shards (its removal is already seen). */
    static final Duration SETTLE = Duration.ofSeconds(30);

    static Runs atStart(long nowMillis) {
      return new Runs(0, 0, true, nowMillis + SETTLE.toMillis(), 0, 0);
    }

    boolean fullAt(long nowMillis) {
      return fullOwed || nowMillis - lastFullMillis >= FULL_RUN_EVERY.toMillis()
          || (againAtMillis != 0 && nowMillis >= againAtMillis);
    }

    /**
     * A run that started at {@code startedMillis}, when the journal's last ordering was
     * {@code top}, is done. The next due run reads due tags from one queue run before that: a
     * due tag whose write was under way while this run read is not missed, and a message woken
     * twice only answers twice. Likewise it removes the finished messages whose Completed event
     * is later than the journal's last ordering when the run before this one began: an ordering
     * is given at the insert and seen at the commit, so a Completed event whose write was under
     * way while this run read is not missed. After a full run, which read the whole journal,
     * it reads from this run's beginning; the next full run removes what was under way then.
     */
    Runs ran(long startedMillis, boolean full, Duration queueRunDelay, long top) {
      boolean againDone = full && againAtMillis != 0 && startedMillis >= againAtMillis;
      return new Runs(startedMillis - queueRunDelay.toMillis(), full ? startedMillis : lastFullMillis, fullOwed && !full,
          againDone ? 0 : againAtMillis, full ? top : lastTop, top);
    }

    Runs nodeLost(long nowMillis) {
      return new Runs(dueSinceMillis, lastFullMillis, true, nowMillis + SETTLE.toMillis(), finishedAfter, lastTop);
    }

    /**
     * How long from {@code nowMillis} until the full run owed after {@link #SETTLE} may start
     * (zero: now), or empty when none is owed: the scanner runs it then, not at its next queue
     * run, which {@code queue_run_delay} (300 s by default) may put minutes later.
     */
    Optional<Duration> settlingFor(long nowMillis) {
      return againAtMillis == 0 ? Optional.empty() : Optional.of(Duration.ofMillis(Math.max(0, againAtMillis - nowMillis)));
    }
  }

  /** The timer of the run owed after {@link Runs#SETTLE}, apart from the queue runs' own. */
  private static final String SETTLED = "settled";

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final QueueDirectory queue;
  private final Duration queueRunDelay;
  private final TimerScheduler<Command> timers;

  private QueueScanner(ActorSystem<?> system, QueueDirectory queue, Duration queueRunDelay, TimerScheduler<Command> timers) {
    this.system = system;
    this.timers = timers;
    this.sharding = ClusterSharding.get(system);
    this.queue = queue;
    this.queueRunDelay = queueRunDelay;
  }

  public static Behavior<Command> create(Duration queueRunDelay, com.typesafe.config.Config journalDb) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Scan(), Duration.ZERO, queueRunDelay);
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.MemberRemoved.class, NodeLost::new), ClusterEvent.MemberRemoved.class));
      var queue = new QueueDirectory(journalDb, ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking()));
      return new QueueScanner(ctx.getSystem(), queue, queueRunDelay, timers).idle(Runs.atStart(System.currentTimeMillis()));
    }));
  }

  private Behavior<Command> idle(Runs runs) {
    runs.settlingFor(System.currentTimeMillis()).ifPresent(wait -> timers.startSingleTimer(SETTLED, new Scan(), wait));
    return waiting(runs);
  }

  /** Idle until the next queue run's tick, or a settled full run's timer already set. */
  private Behavior<Command> waiting(Runs runs) {
    return Behaviors.receive(Command.class)
        .onMessage(Scan.class, scan -> Behaviors.setup(ctx -> {
          long started = System.currentTimeMillis();
          boolean full = runs.fullAt(started);
          var done = queue.removeFinished(full ? OptionalLong.empty() : OptionalLong.of(runs.finishedAfter()))
              .thenCompose(removal -> Source.unfoldResource(
                      () -> full ? queue.toWake(started) : queue.dueSince(runs.dueSinceMillis(), started),
                      QueueDirectory.Cursor::next, QueueDirectory.Cursor::close)
                  // A gentle pace: a queue run must not starve the mail being received.
                  .throttle(2000, Duration.ofSeconds(1))
                  .runFold(0L, (n, id) -> {
                    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, id).tell(new Message.Wake());
                    return n + 1;
                  }, system)
                  .thenApply(woken -> new ScanDone(removal.messages(), removal.top(), woken, null)));
          ctx.pipeToSelf(done, (result, failure) -> failure == null ? result : new ScanDone(0, 0, 0, failure));
          return scanning(runs, started, full, false);
        }))
        .onMessage(NodeLost.class, lost -> idle(runs.nodeLost(System.currentTimeMillis())))
        .onMessage(ScanDone.class, done -> Behaviors.same())
        .build();
  }

  /** {@code nodeLost}: a node was lost while this run read, maybe behind it: a full run is owed even after a full one. */
  private Behavior<Command> scanning(Runs runs, long started, boolean full, boolean nodeLost) {
    return Behaviors.receive(Command.class)
        .onMessage(Scan.class, scan -> Behaviors.same())
        .onMessage(NodeLost.class, lost -> scanning(runs, started, full, true))
        .onMessage(ScanDone.class, done -> {
          if (done.failure() != null) {
            // The same run comes again at the next tick (not at once: the database may be down);
            // a due run reads from where the failed one would have.
            log.warn("warning: queue scan failed: {}", done.failure().toString());
            return nodeLost ? idle(runs.nodeLost(System.currentTimeMillis())) : waiting(runs);
          }
          double seconds = (System.currentTimeMillis() - started) / 1000.0;
          if (full) log.info("queue run: full, {} finished messages removed, {} messages woken, {} s", done.removed(), done.woken(), seconds);
          else log.debug("queue run: {} finished messages removed, {} due messages woken, {} s", done.removed(), done.woken(), seconds);
          var next = runs.ran(started, full, queueRunDelay, done.top());
          return idle(nodeLost ? next.nodeLost(System.currentTimeMillis()) : next);
        })
        .build();
  }
}

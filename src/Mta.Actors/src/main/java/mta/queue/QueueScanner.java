package mta.queue;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue run: like Postfix's qmgr scanning its queue directories at start and every
 * {@code queue_run_delay}, this first removes finished messages from the journal, then wakes
 * each Message entity of the active queue and each deferred one that is due
 * ({@link QueueDirectory}), so mail whose entity is not running (after a crash, a restart,
 * passivation or a node's loss) is picked up again. Waking is idempotent. One scanner runs
 * per cluster (a cluster singleton).
 */
public final class QueueScanner {
  private static final Logger log = LoggerFactory.getLogger("qmgr");

  public sealed interface Command {}

  private record Scan() implements Command {}

  private record ScanDone(long woken, Throwable failure) implements Command {}

  private QueueScanner() {}

  public static Behavior<Command> create(Duration queueRunDelay, com.typesafe.config.Config journalDb) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Scan(), Duration.ZERO, queueRunDelay);
      return idle(ctx.getSystem(), ClusterSharding.get(ctx.getSystem()), new QueueDirectory(journalDb,
          ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking())));
    }));
  }

  private static Behavior<Command> idle(ActorSystem<?> system, ClusterSharding sharding, QueueDirectory queue) {
    return Behaviors.receive(Command.class)
        .onMessage(Scan.class, scan -> Behaviors.setup(ctx -> {
          var counted = queue.removeFinished()
              .thenCompose(removed -> Source.unfoldResource(
                      () -> queue.toWake(System.currentTimeMillis()), QueueDirectory.Cursor::next, QueueDirectory.Cursor::close)
                  // A gentle pace: a queue run must not starve the mail being received.
                  .throttle(2000, Duration.ofSeconds(1))
                  .runFold(0L, (n, id) -> {
                    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, id).tell(new Message.Wake());
                    return n + 1;
                  }, system));
          ctx.pipeToSelf(counted, (n, failure) -> new ScanDone(n == null ? 0 : n, failure));
          return scanning(system, sharding, queue);
        }))
        .onMessage(ScanDone.class, done -> Behaviors.same())
        .build();
  }

  private static Behavior<Command> scanning(ActorSystem<?> system, ClusterSharding sharding, QueueDirectory queue) {
    return Behaviors.receive(Command.class)
        .onMessage(Scan.class, scan -> Behaviors.same())
        .onMessage(ScanDone.class, done -> {
          if (done.failure() != null) log.warn("warning: queue scan failed: {}", done.failure().toString());
          else log.debug("queue run: {} messages woken", done.woken());
          return idle(system, sharding, queue);
        })
        .build();
  }
}

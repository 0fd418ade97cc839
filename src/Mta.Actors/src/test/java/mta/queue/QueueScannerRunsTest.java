package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import mta.queue.QueueScanner.Runs;
import org.junit.jupiter.api.Test;

/** Which queue run comes next: full at start, after a lost node and hourly; due runs between, overlapping by one run. */
class QueueScannerRunsTest {
  private static final Duration RUN_DELAY = Duration.ofMinutes(5);
  private static final long T0 = 1_800_000_000_000L;

  @Test
  void theFirstRunIsFull() {
    var runs = Runs.atStart(T0);
    assertTrue(runs.fullAt(T0));
    var next = runs.ran(T0, true, Duration.ofSeconds(1), 0).ran(T0 + Runs.SETTLE.toMillis(), true, Duration.ofSeconds(1), 0);
    assertFalse(next.fullAt(T0 + Runs.SETTLE.toMillis() + 1));
  }

  @Test
  void aDueRunRemovesWhatFinishedSinceTheRunBeforeThePreviousBegan() {
    var runs = Runs.atStart(T0).ran(T0, true, RUN_DELAY, 1000);
    assertEquals(1000, runs.finishedAfter(), "after a full run (it read the whole journal): from its beginning");
    runs = runs.ran(T0 + RUN_DELAY.toMillis(), false, RUN_DELAY, 1500);
    assertEquals(1000, runs.finishedAfter());
    runs = runs.ran(T0 + 2 * RUN_DELAY.toMillis(), false, RUN_DELAY, 1800);
    assertEquals(1500, runs.finishedAfter(), "a write under way when the last run read is read again");
    assertEquals(1500, runs.nodeLost(T0 + 2 * RUN_DELAY.toMillis()).finishedAfter());
  }

  @Test
  void aDueRunReadsFromOneRunBeforeThePreviousStarted() {
    var runs = Runs.atStart(T0).ran(T0, true, RUN_DELAY, 0);
    assertEquals(T0 - RUN_DELAY.toMillis(), runs.dueSinceMillis());
    long t1 = T0 + RUN_DELAY.toMillis();
    runs = runs.ran(t1, false, RUN_DELAY, 0);
    assertEquals(T0, runs.dueSinceMillis());
    assertEquals(T0, runs.lastFullMillis(), "a due run is not a full one");
  }

  @Test
  void aFullRunComesHourlyAndAfterANodeWasLost() {
    long t = T0 + Runs.SETTLE.toMillis(); // the start's second full run
    var runs = Runs.atStart(T0).ran(T0, true, RUN_DELAY, 0).ran(t, true, RUN_DELAY, 0);
    assertFalse(runs.fullAt(t + Runs.FULL_RUN_EVERY.toMillis() - 1));
    assertTrue(runs.fullAt(t + Runs.FULL_RUN_EVERY.toMillis()));
    var lost = runs.nodeLost(t);
    assertTrue(lost.fullAt(t + 1));
    assertTrue(lost.ran(t + 1, false, RUN_DELAY, 0).fullAt(t + 2), "a due run does not pay what a full one owes");
    assertFalse(lost.ran(t + 1, true, RUN_DELAY, 0).fullAt(t + 2));
  }

  @Test
  void aSecondFullRunFollowsAStartOrALossOnceShardingHasSettled() {
    long quick = Duration.ofSeconds(2).toMillis(); // a short queue_run_delay, as in the cluster tests
    var runs = Runs.atStart(T0).ran(T0, true, Duration.ofMillis(quick), 0);
    assertFalse(runs.fullAt(T0 + quick), "not while the lost node's shards may still be placed on it");
    assertTrue(runs.fullAt(T0 + Runs.SETTLE.toMillis()));
    assertTrue(runs.ran(T0 + quick, false, Duration.ofMillis(quick), 0).fullAt(T0 + Runs.SETTLE.toMillis()),
        "a due run meanwhile does not pay it");
    runs = runs.ran(T0 + Runs.SETTLE.toMillis(), true, Duration.ofMillis(quick), 0);
    assertFalse(runs.fullAt(T0 + Runs.SETTLE.toMillis() + quick), "once, not every run after");

    long lostAt = T0 + Duration.ofMinutes(10).toMillis();
    runs = runs.nodeLost(lostAt).ran(lostAt, true, Duration.ofMillis(quick), 0);
    assertFalse(runs.fullAt(lostAt + quick));
    assertTrue(runs.fullAt(lostAt + Runs.SETTLE.toMillis()));
  }

  @Test
  void theSecondFullRunIsTimedBySettlingNotByTheNextQueueRun() {
    var runs = Runs.atStart(T0);
    assertEquals(Optional.of(Runs.SETTLE), runs.settlingFor(T0));
    runs = runs.ran(T0, true, RUN_DELAY, 0);
    assertEquals(Optional.of(Duration.ofSeconds(20)), runs.settlingFor(T0 + 10_000), "the rest of SETTLE, however long queue_run_delay is");
    assertEquals(Optional.of(Duration.ZERO), runs.settlingFor(T0 + Runs.SETTLE.toMillis() + 5_000), "owed already: at once");
    runs = runs.ran(T0 + Runs.SETTLE.toMillis(), true, RUN_DELAY, 0);
    assertEquals(Optional.empty(), runs.settlingFor(T0 + Runs.SETTLE.toMillis() + 1), "none owed once it ran");
    long lostAt = T0 + Duration.ofMinutes(10).toMillis();
    assertEquals(Optional.of(Runs.SETTLE), runs.nodeLost(lostAt).settlingFor(lostAt));
  }
}

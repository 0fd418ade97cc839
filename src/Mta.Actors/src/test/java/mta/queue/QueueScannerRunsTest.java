package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import mta.queue.QueueScanner.Runs;
import org.junit.jupiter.api.Test;

/** Which queue run comes next: full at start, after a lost node and hourly; due runs between, overlapping by one run. */
class QueueScannerRunsTest {
  private static final Duration RUN_DELAY = Duration.ofMinutes(5);
  private static final long T0 = 1_800_000_000_000L;

  @Test
  void theFirstRunIsFullAndAlsoRemovesUntaggedFinishedMessages() {
    var runs = Runs.atStart(T0);
    assertTrue(runs.fullAt(T0));
    assertTrue(runs.removesUntagged());
    var next = runs.ran(T0, true, Duration.ofSeconds(1)).ran(T0 + Runs.SETTLE.toMillis(), true, Duration.ofSeconds(1));
    assertFalse(next.fullAt(T0 + Runs.SETTLE.toMillis() + 1));
    assertFalse(next.removesUntagged());
  }

  @Test
  void aDueRunReadsFromOneRunBeforeThePreviousStarted() {
    var runs = Runs.atStart(T0).ran(T0, true, RUN_DELAY);
    assertEquals(T0 - RUN_DELAY.toMillis(), runs.dueSinceMillis());
    long t1 = T0 + RUN_DELAY.toMillis();
    runs = runs.ran(t1, false, RUN_DELAY);
    assertEquals(T0, runs.dueSinceMillis());
    assertEquals(T0, runs.lastFullMillis(), "a due run is not a full one");
  }

  @Test
  void aFullRunComesHourlyAndAfterANodeWasLost() {
    long t = T0 + Runs.SETTLE.toMillis(); // the start's second full run
    var runs = Runs.atStart(T0).ran(T0, true, RUN_DELAY).ran(t, true, RUN_DELAY);
    assertFalse(runs.fullAt(t + Runs.FULL_RUN_EVERY.toMillis() - 1));
    assertTrue(runs.fullAt(t + Runs.FULL_RUN_EVERY.toMillis()));
    var lost = runs.nodeLost(t);
    assertTrue(lost.fullAt(t + 1));
    assertTrue(lost.ran(t + 1, false, RUN_DELAY).fullAt(t + 2), "a due run does not pay what a full one owes");
    assertFalse(lost.ran(t + 1, true, RUN_DELAY).fullAt(t + 2));
  }

  @Test
  void aSecondFullRunFollowsAStartOrALossOnceShardingHasSettled() {
    long quick = Duration.ofSeconds(2).toMillis(); // a short queue_run_delay, as in the cluster tests
    var runs = Runs.atStart(T0).ran(T0, true, Duration.ofMillis(quick));
    assertFalse(runs.fullAt(T0 + quick), "not while the lost node's shards may still be placed on it");
    assertTrue(runs.fullAt(T0 + Runs.SETTLE.toMillis()));
    assertTrue(runs.ran(T0 + quick, false, Duration.ofMillis(quick)).fullAt(T0 + Runs.SETTLE.toMillis()),
        "a due run meanwhile does not pay it");
    runs = runs.ran(T0 + Runs.SETTLE.toMillis(), true, Duration.ofMillis(quick));
    assertFalse(runs.fullAt(T0 + Runs.SETTLE.toMillis() + quick), "once, not every run after");

    long lostAt = T0 + Duration.ofMinutes(10).toMillis();
    runs = runs.nodeLost(lostAt).ran(lostAt, true, Duration.ofMillis(quick));
    assertFalse(runs.fullAt(lostAt + quick));
    assertTrue(runs.fullAt(lostAt + Runs.SETTLE.toMillis()));
  }
}

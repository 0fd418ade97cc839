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
    var runs = Runs.atStart();
    assertTrue(runs.fullAt(T0));
    assertTrue(runs.removesUntagged());
    var next = runs.ran(T0, true, RUN_DELAY);
    assertFalse(next.fullAt(T0 + RUN_DELAY.toMillis()));
    assertFalse(next.removesUntagged());
  }

  @Test
  void aDueRunReadsFromOneRunBeforeThePreviousStarted() {
    var runs = Runs.atStart().ran(T0, true, RUN_DELAY);
    assertEquals(T0 - RUN_DELAY.toMillis(), runs.dueSinceMillis());
    long t1 = T0 + RUN_DELAY.toMillis();
    runs = runs.ran(t1, false, RUN_DELAY);
    assertEquals(T0, runs.dueSinceMillis());
    assertEquals(T0, runs.lastFullMillis(), "a due run is not a full one");
  }

  @Test
  void aFullRunComesHourlyAndAfterANodeWasLost() {
    var runs = Runs.atStart().ran(T0, true, RUN_DELAY);
    assertFalse(runs.fullAt(T0 + Runs.FULL_RUN_EVERY.toMillis() - 1));
    assertTrue(runs.fullAt(T0 + Runs.FULL_RUN_EVERY.toMillis()));
    var lost = runs.nodeLost();
    assertTrue(lost.fullAt(T0 + 1));
    assertTrue(lost.ran(T0 + 1, false, RUN_DELAY).fullAt(T0 + 2), "a due run does not pay what a full one owes");
    assertFalse(lost.ran(T0 + 1, true, RUN_DELAY).fullAt(T0 + 2));
  }
}

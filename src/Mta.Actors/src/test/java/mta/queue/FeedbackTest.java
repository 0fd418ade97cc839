package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FeedbackTest {

  @Test
  void startsAtTheInitialWindowAndGrowsWithSuccessUpToTheLimit() {
    var f = new Feedback(5, 20);
    assertEquals(5, f.window());
    for (int i = 0; i < 6; i++) f.success();
    assertEquals(6, f.window(), "a window's worth of successes grows it by about one");
    for (int i = 0; i < 10_000; i++) f.success();
    assertEquals(20, f.window());
  }

  @Test
  void aFailedCohortMarksTheSiteDead() {
    var f = new Feedback(5, 20);
    for (int i = 0; i < 4; i++) assertFalse(f.failure(), "failure " + (i + 1) + " of a cohort of five");
    assertTrue(f.failure());
    assertTrue(f.window() >= 1 && f.window() < 5, "negative feedback shrinks the window but never below one");
  }

  @Test
  void aSuccessBetweenFailuresStartsTheCohortAgain() {
    var f = new Feedback(2, 20);
    assertFalse(f.failure());
    f.success();
    assertFalse(f.failure());
  }

  @Test
  void resetReturnsToTheInitialWindow() {
    var f = new Feedback(3, 20);
    for (int i = 0; i < 50; i++) f.success();
    f.reset();
    assertEquals(3, f.window());
  }

  @Test
  void theInitialWindowNeverExceedsTheLimit() {
    assertEquals(2, new Feedback(5, 2).window());
  }
}

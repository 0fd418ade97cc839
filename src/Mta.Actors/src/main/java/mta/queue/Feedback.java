package mta.queue;

/**
 * Postfix's per-destination concurrency window (qmgr_feedback.c): start at
 * {@code initial_destination_concurrency}, grow by 1/window for every delivery that reached
 * the site, shrink by 1/window for every one that could not, never past the limit or below
 * one. A whole window's worth of failures in a row (a failed cohort) means the site is dead.
 */
final class Feedback {
  private final int initial;
  private final int limit;
  private double window;
  private int failuresInRow;
  /** The window when the current run of failures began: that many failures make a cohort. */
  private int cohort;

  Feedback(int initial, int limit) {
    this.initial = Math.min(initial, limit);
    this.limit = limit;
    reset();
  }

  /** How many deliveries may be under way at once. */
  int window() {
    return (int) window;
  }

  void success() {
    failuresInRow = 0;
    window = Math.min(limit, window + 1 / window);
  }

  /** Records a failure; true when the failures amount to a failed cohort. */
  boolean failure() {
    if (failuresInRow == 0) cohort = window();
    window = Math.max(1, window - 1 / window);
    return ++failuresInRow >= cohort;
  }

  void reset() {
    window = initial;
    failuresInRow = 0;
  }
}

package mta.management;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class QueueShapeTest {
  static final long NOW = 1_700_000_000_000L;

  static QueueEntry entry(long minutesOld, String... recipients) {
    return new QueueEntry("deferred", "id" + minutesOld, NOW / 1000 - minutesOld * 60, 100, "a@b.example",
        List.of(recipients).stream().map(r -> new QueueEntry.Recipient(r, "")).toList());
  }

  @Test
  void messagesAreCountedPerDomainInQshapesAgeBuckets() {
    var shape = QueueShape.of(List.of(
        entry(0, "x@gmail.example", "y@GMAIL.example", "z@yahoo.example"),
        entry(7, "x@gmail.example"),
        entry(1280, "x@yahoo.example"),
        entry(5000, "x@gmail.example")), NOW);
    assertEquals(List.of("5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"), shape.buckets());
    assertEquals(List.of(
        new QueueShape.Row("TOTAL", 4, List.of(1L, 1L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L + 1L)),
        new QueueShape.Row("gmail.example", 3, List.of(1L, 1L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L)),
        new QueueShape.Row("yahoo.example", 2, List.of(1L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L))), shape.rows(),
        "two recipients at one domain count once; 1280 minutes is past the last bucket");
  }

  @Test
  void anEmptyQueueHasATotalOfNothing() {
    assertEquals(List.of(new QueueShape.Row("TOTAL", 0, List.of(0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L))),
        QueueShape.of(List.of(), NOW).rows());
  }
}

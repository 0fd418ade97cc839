package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mta.mail.Dsn;
import mta.queue.Message.Queued;
import mta.queue.Message.RecipientState;
import mta.queue.Message.Status;
import mta.queue.RecipientResult.Outcome;
import org.junit.jupiter.api.Test;

/** The rules a queued message keeps about its recipients: Postfix's backoff and hand-out. */
class MessageStateTest {
  private static final Message.QueueTimes TIMES =
      new Message.QueueTimes(Duration.ofSeconds(300), Duration.ofSeconds(4000), Duration.ofSeconds(300), Duration.ofDays(5), Duration.ZERO);
  private static final long ARRIVAL = 1_000_000;

  private static Queued queued(boolean held, String... recipients) {
    var map = new LinkedHashMap<String, RecipientState>();
    for (var r : recipients) {
      map.put(r, new RecipientState(r.endsWith("a.example") ? "smtp:[a]:25" : "smtp:[b]:25", Status.PENDING, 0, "", "", "none", Dsn.Rcpt.NONE));
    }
    return new Queued("s@x", ARRIVAL, new byte[] {1}, map, held, Dsn.Mail.NONE, false);
  }

  private static RecipientResult result(String r, Outcome o) {
    return new RecipientResult(r, o, "x.0.0", "reply", "relay");
  }

  @Test
  void pendingRecipientsAreHandedOutByRoute() {
    var q = queued(false, "1@a.example", "2@b.example", "3@a.example");
    assertEquals(Map.of("smtp:[a]:25", List.of("1@a.example", "3@a.example"), "smtp:[b]:25", List.of("2@b.example")),
        q.dueByRoute(ARRIVAL));
  }

  @Test
  void aHeldMessageHandsOutNothingAndSleeps() {
    var q = queued(true, "1@a.example");
    assertTrue(q.dueByRoute(ARRIVAL).isEmpty());
    assertEquals(Long.MAX_VALUE, q.nextWakeMillis(ARRIVAL, TIMES));
  }

  @Test
  void aDeferralBacksOffByTheTimeWaitedWithinTheBounds() {
    var q = queued(false, "1@a.example");
    var early = q.apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), ARRIVAL + 1_000, 0), TIMES);
    assertEquals(ARRIVAL + 1_000 + 300_000, early.recipients().get("1@a.example").notBeforeMillis(), "minimal_backoff_time");
    long later = ARRIVAL + 1_000_000;
    var mid = q.apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), later, 0), TIMES);
    assertEquals(later + 1_000_000, mid.recipients().get("1@a.example").notBeforeMillis(), "doubling: wait as long again");
    long late = ARRIVAL + 100_000_000;
    var capped = q.apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), late, 0), TIMES);
    assertEquals(late + 4_000_000, capped.recipients().get("1@a.example").notBeforeMillis(), "maximal_backoff_time");
  }

  @Test
  void deferredRecipientsWaitUntilDueThenGoOutAgain() {
    var q = queued(false, "1@a.example").apply(
        new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), ARRIVAL, 0), TIMES);
    long due = q.recipients().get("1@a.example").notBeforeMillis();
    assertTrue(q.dueByRoute(due - 1).isEmpty());
    assertEquals(due, q.nextWakeMillis(ARRIVAL, TIMES));
    assertEquals(List.of("1@a.example"), q.dueByRoute(due).get("smtp:[a]:25"));
    assertEquals(due + 300_000, q.nextWakeMillis(due, TIMES), "handed out: look again after a queue run");
  }

  @Test
  void theDelayWarningFallsDueOnceWhileRecipientsAreDeferred() {
    var warnAfter = new Message.QueueTimes(Duration.ofSeconds(300), Duration.ofSeconds(4000), Duration.ofSeconds(300),
        Duration.ofDays(5), Duration.ofHours(4));
    var fresh = queued(false, "1@a.example", "2@b.example");
    assertEquals(Long.MAX_VALUE, fresh.delayWarningMillis(warnAfter), "nothing deferred yet: no warning");
    var deferred = fresh.apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), ARRIVAL, 0), warnAfter);
    long due = ARRIVAL + Duration.ofHours(4).toMillis();
    assertEquals(due, deferred.delayWarningMillis(warnAfter), "delay_warning_time after arrival");
    assertEquals(Long.MAX_VALUE, deferred.delayWarningMillis(TIMES), "delay_warning_time 0: off");
    assertEquals(Long.MAX_VALUE, deferred.withDelayWarned().delayWarningMillis(warnAfter), "once only");
    var retryLater = deferred.apply(new Message.DeliveryAttempted(
        List.of(result("1@a.example", Outcome.DEFERRED), result("2@b.example", Outcome.SENT)), due - 1_000, 0), warnAfter);
    assertEquals(due, retryLater.nextWakeMillis(due - 1_000, warnAfter), "it wakes up for the warning, before the retry");
    assertEquals(retryLater.recipients().get("1@a.example").notBeforeMillis(),
        retryLater.withDelayWarned().nextWakeMillis(due - 1_000, warnAfter), "then only for the retry");
  }

  @Test
  void aMessageSleepsOnlyWhenEveryOpenRecipientWaitsForItsRetry() {
    var q = queued(false, "1@a.example", "2@b.example");
    assertEquals(0, q.sleepsUntilMillis(ARRIVAL, TIMES), "pending recipients are out");
    var oneDeferred = q.apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), ARRIVAL, 0), TIMES);
    assertEquals(0, oneDeferred.sleepsUntilMillis(ARRIVAL, TIMES), "2@b.example is still with its delivery agent");
    var both = oneDeferred.apply(new Message.DeliveryAttempted(
        List.of(result("2@b.example", Outcome.DEFERRED)), ARRIVAL + 60_000, 0), TIMES);
    long first = both.recipients().get("1@a.example").notBeforeMillis();
    assertTrue(first < both.recipients().get("2@b.example").notBeforeMillis());
    assertEquals(first, both.sleepsUntilMillis(ARRIVAL + 60_000, TIMES), "asleep until the first falls due");
    assertEquals(0, both.sleepsUntilMillis(first, TIMES), "due: awake");
    var delivered = both.apply(new Message.DeliveryAttempted(
        List.of(result("1@a.example", Outcome.SENT), result("2@b.example", Outcome.SENT)), first, 0), TIMES);
    assertEquals(0, delivered.sleepsUntilMillis(first, TIMES), "nothing open");
  }

  @Test
  void aSleepingMessageWakesForItsDelayWarning() {
    var warnAfter = new Message.QueueTimes(Duration.ofSeconds(300), Duration.ofSeconds(4000), Duration.ofSeconds(300),
        Duration.ofDays(5), Duration.ofSeconds(200));
    var q = queued(false, "1@a.example").apply(
        new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), ARRIVAL, 0), warnAfter);
    assertEquals(ARRIVAL + 200_000, q.sleepsUntilMillis(ARRIVAL, warnAfter), "the warning comes before the retry");
    assertEquals(0, q.sleepsUntilMillis(ARRIVAL + 200_000, warnAfter), "warning due: awake");
    assertEquals(q.recipients().get("1@a.example").notBeforeMillis(),
        q.withDelayWarned().sleepsUntilMillis(ARRIVAL + 200_000, warnAfter), "warned: asleep until the retry");
  }

  @Test
  void dueTagsSortAsTheirTimes() {
    assertEquals("due:01700000000", Message.dueTag(1_700_000_000_999L));
    assertTrue(Message.dueTag(9_999_000).compareTo(Message.dueTag(10_000_000)) < 0);
  }

  @Test
  void finalOutcomesStayFinal() {
    var q = queued(false, "1@a.example", "2@b.example")
        .apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.SENT), result("2@b.example", Outcome.BOUNCED)), ARRIVAL, 0), TIMES);
    assertTrue(q.allFinal());
    var again = q.apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.DEFERRED)), ARRIVAL + 5, 0), TIMES);
    assertEquals(Status.SENT, again.recipients().get("1@a.example").status(), "a late duplicate result changes nothing");
    assertEquals(Long.MAX_VALUE, again.nextWakeMillis(ARRIVAL, TIMES));
  }

  @Test
  void aMessageWithAnOpenRecipientIsNotFinal() {
    var q = queued(false, "1@a.example", "2@b.example")
        .apply(new Message.DeliveryAttempted(List.of(result("1@a.example", Outcome.SENT)), ARRIVAL, 0), TIMES);
    assertFalse(q.allFinal());
    assertEquals(Map.of("smtp:[b]:25", List.of("2@b.example")), q.dueByRoute(ARRIVAL));
  }

  @Test
  void logLinesHaveThePostfixShape() {
    var r = new RecipientResult("a@b", Outcome.SENT, "2.0.0", "250 2.0.0 Ok", "mx[127.0.0.1]:25");
    assertEquals("to=<a@b>, relay=mx[127.0.0.1]:25, delay=0.40, dsn=2.0.0, status=sent (250 2.0.0 Ok)", r.logLine(0, 400));
    assertEquals("to=<a@b>, relay=mx[127.0.0.1]:25, delay=1234, dsn=2.0.0, status=sent (250 2.0.0 Ok)", r.logLine(0, 1_234_000));
  }
}

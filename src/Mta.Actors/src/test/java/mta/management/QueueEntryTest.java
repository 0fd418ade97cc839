package mta.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import mta.queue.Message.MessageStatus;
import mta.queue.Message.RecipientState;
import mta.queue.Message.Status;
import org.junit.jupiter.api.Test;

class QueueEntryTest {
  static final long NOW = 1_700_000_000_000L;

  static MessageStatus status(boolean held, RecipientState... states) {
    var recipients = new LinkedHashMap<String, RecipientState>();
    for (int i = 0; i < states.length; i++) recipients.put("r" + i + "@example.net", states[i]);
    return new MessageStatus("4Xk9zB", "alice@example.org", NOW - 60_000, 2048, held, recipients);
  }

  static RecipientState state(Status status, long notBefore, String reason) {
    return new RecipientState("smtp:[192.0.2.1]:25", status, notBefore, "4.4.1", reason, "none", mta.mail.Dsn.Rcpt.NONE);
  }

  @Test
  void theQueueIsReadOffTheStatus() {
    var waiting = state(Status.DEFERRED, NOW + 60_000, "connect to x: Connection refused");
    assertEquals("deferred", QueueEntry.of(status(false, waiting), NOW).queueName());
    assertEquals("active", QueueEntry.of(status(false, waiting, state(Status.PENDING, 0, "")), NOW).queueName());
    assertEquals("active", QueueEntry.of(status(false, state(Status.DEFERRED, NOW - 1, "due")), NOW).queueName(), "due again");
    assertEquals("hold", QueueEntry.of(status(true, state(Status.PENDING, 0, "")), NOW).queueName());
  }

  @Test
  void onlyOpenRecipientsAreListedWithTheReasonOfTheirDeferral() {
    var e = QueueEntry.of(status(false, state(Status.SENT, 0, "250 Ok"), state(Status.DEFERRED, NOW + 1, "451 try later"),
        state(Status.BOUNCED, 0, "550 no"), state(Status.PENDING, 0, "")), NOW);
    assertEquals(List.of(new QueueEntry.Recipient("r1@example.net", "451 try later"), new QueueEntry.Recipient("r3@example.net", "")),
        e.recipients());
    assertEquals((NOW - 60_000) / 1000, e.arrivalTime());
    assertEquals(2048, e.messageSize());
  }

  @Test
  void theJsonIsPostqueueJs() {
    var e = QueueEntry.of(status(false, state(Status.DEFERRED, NOW + 1, "451 try later"), state(Status.PENDING, 0, "")), NOW);
    var json = Json.write(e);
    assertEquals("{\"queue_name\":\"active\",\"queue_id\":\"4Xk9zB\",\"arrival_time\":" + (NOW - 60_000) / 1000
        + ",\"message_size\":2048,\"sender\":\"alice@example.org\",\"recipients\":[{\"address\":\"r0@example.net\","
        + "\"delay_reason\":\"451 try later\"},{\"address\":\"r1@example.net\"}]}", json);
    assertEquals(e, Json.read(json, QueueEntry.class), "a missing delay_reason reads as none");
  }

  @Test
  void aSiteIsARecipientDomainStillOpen() {
    var s = status(false, state(Status.SENT, 0, ""), state(Status.DEFERRED, NOW + 1, ""));
    assertTrue(QueueEntry.hasOpenRecipientAt(s, "EXAMPLE.net"));
    assertFalse(QueueEntry.hasOpenRecipientAt(status(false, state(Status.SENT, 0, "")), "example.net"));
    assertFalse(QueueEntry.hasOpenRecipientAt(s, "example.org"));
  }
}

package mta.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.util.List;
import mta.management.MessageView;
import mta.management.QueueAction;
import mta.management.QueueEntry;
import mta.management.QueueShape;
import org.junit.jupiter.api.Test;

class CtlQueueTest {
  /** Tue Jun 11 09:00:01 2024 UTC. */
  static final long ARRIVAL = 1718096401L;

  static String mailq(QueueEntry... entries) {
    var bytes = new ByteArrayOutputStream();
    var out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    var mailq = new CtlQueue.Mailq(out, ZoneOffset.UTC);
    for (var e : entries) mailq.add(e);
    mailq.end();
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void mailqListsAsPostfixDoes() {
    var refused = "connect to mx.example.net[192.0.2.1]:25: Connection refused";
    var text = mailq(
        new QueueEntry("deferred", "4Xk9zBcDf", ARRIVAL, 1500, "alice@example.org", List.of(
            new QueueEntry.Recipient("bob@example.net", refused),
            new QueueEntry.Recipient("carol@example.net", refused),
            new QueueEntry.Recipient("dave@example.com", ""))),
        new QueueEntry("hold", "4Xk9zBcDg", ARRIVAL, 600, "", List.of(new QueueEntry.Recipient("eve@example.org", ""))),
        new QueueEntry("active", "4Xk9zBcDh", ARRIVAL, 1000, "x@example.org", List.of(new QueueEntry.Recipient("y@example.org", ""))));
    assertEquals("""
        ----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
        4Xk9zBcDf             1500 Tue Jun 11 09:00:01 alice@example.org
                         (connect to mx.example.net[192.0.2.1]:25: Connection refused)
                                                       bob@example.net
                                                       carol@example.net
                                                                  (reason unavailable)
                                                       dave@example.com

        4Xk9zBcDg!             600 Tue Jun 11 09:00:01 MAILER-DAEMON
                                                       eve@example.org

        4Xk9zBcDh*            1000 Tue Jun 11 09:00:01 x@example.org
                                                       y@example.org

        -- 3 Kbytes in 3 Requests.
        """, text);
  }

  @Test
  void anEmptyQueueSaysSo() {
    assertEquals("Mail queue is empty\n", mailq());
  }

  @Test
  void qshapeIsATableOfDomainsByAge() {
    var shape = new QueueShape(List.of("5", "10", "1280+"), List.of(
        new QueueShape.Row("TOTAL", 12, List.of(10L, 0L, 2L)),
        new QueueShape.Row("example.com", 2, List.of(0L, 0L, 2L))));
    assertEquals("""
                      T   5  10  1280+
        TOTAL        12  10   0      2
        example.com   2   0   0      2
        """, CtlQueue.qshape(shape));
  }

  @Test
  void postcatShowsEnvelopeThenContent() {
    var view = new MessageView("deferred", "4Xk9zB", ARRIVAL, 120, "a@b.example", List.of(
        new MessageView.RecipientView("c@d.example", "smtp:[192.0.2.1]:25", "deferred", ARRIVAL + 300, "451 later"),
        new MessageView.RecipientView("e@f.example", "smtp:[192.0.2.1]:25", "sent", 0, "")),
        "Subject: hi\r\nFrom: a@b.example\r\n", "Hello\r\n");
    assertEquals("""
        *** ENVELOPE RECORDS deferred/4Xk9zB ***
        message_size: 120
        message_arrival_time: Tue Jun 11 09:00:01 2024
        sender: a@b.example
        recipient: c@d.example
            route: smtp:[192.0.2.1]:25
            status: deferred, next attempt Tue Jun 11 09:05:01 2024
            reason: 451 later
        recipient: e@f.example
            route: smtp:[192.0.2.1]:25
            status: sent
        *** MESSAGE CONTENTS deferred/4Xk9zB ***
        Subject: hi
        From: a@b.example

        Hello
        *** MESSAGE FILE END deferred/4Xk9zB ***
        """, CtlQueue.postcat(view, ZoneOffset.UTC));
  }

  @Test
  void actionsReportAsPostsuperDoes() {
    assertEquals("Placed on hold: 2 messages", CtlQueue.acted(new QueueAction.Result("hold", 2)));
    assertEquals("Deleted: 1 message", CtlQueue.acted(new QueueAction.Result("delete", 1)));
  }
}

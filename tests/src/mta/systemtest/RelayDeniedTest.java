package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Postfix's default relay policy: with mynetworks = [] the client 127.0.0.1 is not trusted, so
 * it may send only to relay_domains (or mydestination); anything else is
 * "554 5.7.1 <rcpt>: Relay access denied" at RCPT, and nothing is queued.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RelayDeniedTest extends SystemTestSupport {

  @Test
  void untrustedClientMayNotRelay() {
    SmtpSink sink = sink();
    NodeProcess node = startNode(node("gate")
        .set("mta.mynetworks", List.of())
        .set("mta.relay_domains", List.of("relayed.test"))
        .relayhost(sink.port()));

    String foreignId = uniqueId("foreign");
    Swaks.Result denied = Swaks.to(node.smtpPort(), "victim@foreign.example").messageId(foreignId).run();
    assertEquals(24, denied.exitCode(), () -> "swaks: no RCPT accepted (exit 24)\n" + denied);
    assertTrue(denied.hasReply("^554 5\\.7\\.1 <victim@foreign\\.example>: Relay access denied"),
        () -> "Postfix's reply to an unauthorised relay attempt:\n" + denied);
    assertEquals(null, denied.queueId());

    // The same client may send to a relay_domains domain: the control that the node works.
    String relayedId = uniqueId("relayed");
    Swaks.Result ok = Swaks.to(node.smtpPort(), "user@relayed.test").messageId(relayedId).run();
    assertTrue(ok.accepted(), ok::toString);
    sink.awaitContaining(relayedId, 1, DELIVERY);
    node.awaitLog(deliveryLine(ok.queueId(), "user@relayed.test", sink.port(), "sent"), DELIVERY);

    // Nothing for the foreign recipient was queued, logged as a delivery, or delivered.
    holdsFor(Duration.ofSeconds(2), () -> sink.countContaining(foreignId) == 0, "the denied message arrived");
    assertEquals(0, node.countLog(deliveryLine(null, "victim@foreign.example", null, "")), () -> node.tail(40));
    assertEquals(0, node.countLog("(?i)message-id=<" + java.util.regex.Pattern.quote(foreignId) + ">"),
        () -> "no queue file (cleanup) for the denied message\n" + node.tail(40));
    node.awaitLog("NOQUEUE: reject: RCPT from .*554 5\\.7\\.1 <victim@foreign\\.example>: Relay access denied",
        Duration.ofSeconds(5));
    assertEquals(1, sink.count(), "only the relay_domains message reached the next hop");
  }
}

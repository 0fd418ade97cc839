package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * swaks -> node -> smtp-sink, the next hop given as relayhost = [127.0.0.1]:port (no MX
 * lookup), with the embedded H2 journal. {@link PostgresRelayhostTest} runs the same with
 * the PostgreSQL journal.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RelayhostTest extends SystemTestSupport {

  /** The journal under test: the default (embedded H2 in the data directory). */
  protected NodeProcess.Builder journal(NodeProcess.Builder node) {
    return node;
  }

  @Test
  void relaysThroughRelayhost() {
    SmtpSink sink = sink();
    NodeProcess node = startNode(journal(node("relay").relayhost(sink.port())));

    String id = uniqueId("relayhost");
    Swaks.Result r = Swaks.to(node.smtpPort(), "alice@remote.example")
        .messageId(id).subject("via relayhost").run();
    assertTrue(r.accepted(), () -> "the node should accept the message:\n" + r);
    assertTrue(r.hasReply("^250 2\\.0\\.0 Ok: queued as "), () -> "Postfix-style 250 reply:\n" + r);
    String queueId = r.queueId();
    assertNotNull(queueId);

    sink.awaitContaining(id, 1, DELIVERY);
    Matcher sent = node.awaitLog(deliveryLine(queueId, "alice@remote.example", sink.port(), "sent"), DELIVERY);
    assertTrue(sent.group().contains("dsn=2."), () -> "dsn=2.x.x in: " + sent.group());

    String delivered = sink.messages().stream().filter(m -> m.contains(id)).findFirst().orElseThrow();
    assertTrue(delivered.contains("X-Rcpt-Args: <alice@remote.example>"), delivered);
    assertTrue(delivered.contains("X-Mail-Args: <sender@client.test>"), delivered);
    assertTrue(delivered.contains("Subject: via relayhost"), delivered);
    assertTrue(headers(delivered, "Received").stream().anyMatch(h -> h.contains(" by relay.test")),
        () -> "the node adds its own Received: header (RFC 5321 4.4):\n" + delivered);
    holdsFor(java.time.Duration.ofSeconds(2), () -> sink.countContaining(id) == 1,
        "delivered once, not " + sink.countContaining(id) + " times");
    assertEquals(1, node.countLog(deliveryLine(queueId, "alice@remote.example", null, "sent")),
        () -> "one status=sent line for " + queueId + "\n" + node.tail(40));
    // The journal wrote and answered: its actor did so on the default pool, not on a thread of
    // Pekko's pinned plugin dispatcher, which the journal plugin's own reference.conf would leave it.
    String threads = node.threadDump();
    assertTrue(threads.contains("\"mta-pekko.actor.default-dispatcher-"), threads);
    assertTrue(!threads.contains("default-plugin-dispatcher"),
        () -> "the journal's actor runs on a pinned thread:\n" + threads);
  }
}

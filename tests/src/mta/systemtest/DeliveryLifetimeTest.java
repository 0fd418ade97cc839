package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * maximal_queue_lifetime: mail to a next hop that never answers (nothing listens) is deferred
 * and retried (minimal_backoff_time 1s) until it has been queued longer than the lifetime (8s);
 * then it is returned as expired: status=bounced with dsn=4.4.7, and the sender, whose domain
 * routes to a capturing sink, gets an RFC 3464 report with Action: failed, Status: 4.4.7.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DeliveryLifetimeTest extends SystemTestSupport {
  private static final int LIFETIME_SECONDS = 8;

  @Test
  void mailToADeadNextHopExpiresAndReturnsToTheSender() throws IOException {
    SmtpSink capture = sink();
    int deadPort = Ports.free(); // nothing listens here: connection refused, every time
    Path transport = dir.resolve("transport");
    SmtpSink warm = sink();
    Files.writeString(transport, """
        senders.test    smtp:[127.0.0.1]:%d
        dead.test       smtp:[127.0.0.1]:%d
        warm.test       smtp:[127.0.0.1]:%d
        """.formatted(capture.port(), deadPort, warm.port()));
    NodeProcess node = startNode(node("expiry")
        .set("mta.transport_maps", List.of("texthash:" + transport))
        .set("mta.minimal_backoff_time", "1s")
        .set("mta.maximal_backoff_time", "2s")
        .set("mta.queue_run_delay", "2s")
        .set("mta.maximal_queue_lifetime", LIFETIME_SECONDS + "s")
        .set("mta.management.listen", "127.0.0.1:" + Ports.free()));

    warmUp(node, "w@warm.test", warm);

    String id = uniqueId("expire");
    long accepted = System.nanoTime();
    Swaks.Result r = Swaks.to(node.smtpPort(), "bob@dead.test").from("alice@senders.test").messageId(id).run();
    assertTrue(r.accepted(), r::toString);
    String q = Pattern.quote(r.queueId());

    node.awaitLog(q + ": to=<bob@dead\\.test>, .*status=deferred", DELIVERY);
    Matcher bounced = node.awaitLog(q + ": to=<bob@dead\\.test>, relay=\\S+, delay=(\\S+), dsn=(\\S+), status=bounced .*", DELIVERY);
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - accepted);
    int deferrals = node.countLog(q + ": to=<bob@dead\\.test>, .*status=deferred");
    System.out.printf("[DeliveryLifetimeTest] expired after %d deferrals, ~%ds after the 250 (log delay=%s): %s%n",
        deferrals, seconds, bounced.group(1), bounced.group());
    assertEquals("4.4.7", bounced.group(2), bounced.group());
    assertTrue(bounced.group().contains("expired"), bounced.group());
    assertTrue(Double.parseDouble(bounced.group(1)) >= LIFETIME_SECONDS, () -> "not before the lifetime is over: " + bounced.group());
    assertTrue(deferrals >= 2, "retried before it expired: " + deferrals);

    // The notice's own delivery is logged after the sink's 250: its dump file is complete.
    node.awaitLog(": to=<alice@senders\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + capture.port() + ", .*status=sent", DELIVERY);
    assertEquals(1, capture.count(), () -> "one notice\n" + node.tail(30));
    String dump = capture.messages().get(0);
    assertTrue(DeliveryDsn.isDsn(dump), () -> "a DSN from <>:\n" + dump);
    DeliveryDsn dsn = DeliveryDsn.parse(dump);
    System.out.println("[DeliveryLifetimeTest] " + dsn);
    assertTrue(dump.contains("X-Rcpt-Args: <alice@senders.test>"), dump);
    DeliveryMxRoutingTest.checkReport(dsn, "bob@dead.test", "4.4.7", id);

    // Final: no more attempts, no second notice.
    int lines = node.countLog(q + ": to=<bob@dead\\.test>");
    holdsFor(Duration.ofSeconds(4), () -> node.countLog(q + ": to=<bob@dead\\.test>") == lines && capture.count() == 1,
        "an expired message was tried again or returned twice");
    node.awaitLog(q + ": removed", Duration.ofSeconds(10));
  }
}

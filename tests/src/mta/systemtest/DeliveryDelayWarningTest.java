package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * delay_warning_time (4s here): mail to a next hop that answers RCPT with 450 is deferred and
 * retried; once it has waited the warning time the sender, whose domain routes to a capturing
 * sink, gets one RFC 3464 report (parsed with mime4j) with Action: delayed, the 4.x.x status,
 * the server's reply and the original headers, logged as "sender delay notification". The
 * retries go on; when the next hop answers at last the mail is delivered, and no second
 * warning (nor any other notice) follows.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeliveryDelayWarningTest extends SystemTestSupport {
  private static final int WARNING_SECONDS = 4;

  @Test
  void aDelayWarningArrivesWhileTheMailIsRetriedThenItIsDelivered() throws IOException {
    SmtpSink capture = sink();
    SmtpSink warm = sink();
    SmtpSink tempfail = sink("-r", "RCPT"); // 450 4.3.0 to every RCPT
    int slowPort = tempfail.port();
    Path transport = dir.resolve("transport");
    Files.writeString(transport, """
        senders.test    smtp:[127.0.0.1]:%d
        slow.test       smtp:[127.0.0.1]:%d
        warm.test       smtp:[127.0.0.1]:%d
        """.formatted(capture.port(), slowPort, warm.port()));
    NodeProcess node = startNode(node("delaywarn")
        .set("mta.transport_maps", List.of("texthash:" + transport))
        .set("mta.delay_warning_time", WARNING_SECONDS + "s")
        .set("mta.minimal_backoff_time", "1s")
        .set("mta.maximal_backoff_time", "2s")
        .set("mta.queue_run_delay", "2s")
        .set("mta.management.listen", "127.0.0.1:" + Ports.free()));

    warmUp(node, "w@warm.test", warm);

    String id = uniqueId("delayed");
    long accepted = System.nanoTime();
    Swaks.Result r = Swaks.to(node.smtpPort(), "bob@slow.test").from("alice@senders.test").messageId(id).run();
    assertTrue(r.accepted(), r::toString);
    String q = Pattern.quote(r.queueId());

    var notified = node.awaitLog(q + ": sender delay notification: (\\S+)", DELIVERY);
    long warnedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - accepted);
    int deferralsBefore = node.countLog(q + ": to=<bob@slow\\.test>, .*status=deferred");
    String notice = notified.group(1);
    node.awaitLog(Pattern.quote(notice) + ": to=<alice@senders\\.test>, relay=\\S+:" + capture.port() + ", .*status=sent", DELIVERY);
    assertEquals(1, capture.count(), () -> "one notice\n" + node.tail(30));
    String dump = capture.messages().get(0);
    assertTrue(DeliveryDsn.isDsn(dump), () -> "a DSN from <>:\n" + dump);
    DeliveryDsn dsn = DeliveryDsn.parse(dump);
    System.out.printf("[DeliveryDelayWarningTest] warned ~%d ms after the 250, after %d deferrals: %s%n",
        warnedAfter, deferralsBefore, dsn);
    assertTrue(warnedAfter >= WARNING_SECONDS * 1000L, "not before delay_warning_time: " + warnedAfter + " ms");
    assertTrue(deferralsBefore >= 2, "it was retried before the warning: " + deferralsBefore);
    DeliveryMxRoutingTest.checkReport(dsn, "bob@slow.test", "delayed", "4.3.0", id);
    var bob = dsn.recipient("bob@slow.test");
    assertTrue(bob.getOrDefault("diagnostic-code", "").startsWith("smtp; 450"), dsn::toString);
    assertTrue(bob.containsKey("will-retry-until"), dsn::toString);
    assertEquals("text/rfc822-headers", dsn.originalType(), "a warning returns the headers only");
    assertTrue(dump.contains("Subject: Delayed Mail (still being retried)"), dump);

    // Still retried after the warning; then the next hop answers and the mail goes.
    long mark = node.logMark();
    node.awaitLog(q + ": to=<bob@slow\\.test>, .*status=deferred", DELIVERY, mark);
    tempfail.stop();
    SmtpSink good = sinkOn(slowPort);
    node.awaitLog(q + ": to=<bob@slow\\.test>, relay=\\S+:" + slowPort + ", .*status=sent", DELIVERY);
    good.awaitContaining(id, 1, DELIVERY);
    node.awaitLog(q + ": removed", Duration.ofSeconds(10));
    int deferrals = node.countLog(q + ": to=<bob@slow\\.test>, .*status=deferred");
    System.out.printf("[DeliveryDelayWarningTest] delivered after %d deferrals, %d ms after the 250%n",
        deferrals, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - accepted));
    holdsFor(Duration.ofSeconds(2), () -> capture.count() == 1, "a second notice came");
    assertEquals(1, node.countLog(q + ": sender delay notification"), () -> node.tail(30));
  }
}

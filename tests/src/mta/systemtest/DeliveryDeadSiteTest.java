package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A dead destination does not slow a healthy one. dead.test goes to a tarpit (smtp-sink that
 * waits 60 s before its greeting; smtp_helo_timeout is 3 s), healthy.test to an ordinary sink.
 * First the healthy latency alone (MAIL FROM at smtpd → written by the sink), then again while
 * 20 messages for dead.test are being tried, time out, are deferred, and the site is marked
 * dead after its failed cohort. The healthy latencies must stay of the same order (generous
 * bounds: the machine may be busy); the numbers are printed.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DeliveryDeadSiteTest extends SystemTestSupport {
  private static final int BATCH = 15;
  private static final int DEAD_MESSAGES = 20;

  private SmtpSink healthy;
  private NodeProcess node;

  @Test
  void aDeadDestinationDoesNotSlowAHealthyOne() throws IOException {
    healthy = sink();
    SmtpSink tarpit = sink("-W", "CONNECT:60");
    Path transport = dir.resolve("transport");
    Files.writeString(transport, """
        healthy.test    smtp:[127.0.0.1]:%d
        dead.test       smtp:[127.0.0.1]:%d
        """.formatted(healthy.port(), tarpit.port()));
    node = startNode(node("deadsite").fastRetry()
        .set("mta.transport_maps", List.of("texthash:" + transport))
        .set("mta.smtp_connect_timeout", "3s")
        .set("mta.smtp_helo_timeout", "3s")
        .set("mta.management.listen", "127.0.0.1:" + Ports.free()));

    // Warm-up (first use of the queues and connections), not measured.
    try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
      c.ehlo("client.test");
      String warm = uniqueId("warm");
      assertTrue(c.send("alice@senders.test", List.of("warm@healthy.test"), SmtpClient.message("alice@senders.test",
          "warm@healthy.test", warm, "warm-up", 200)).positive());
      healthy.awaitContaining(warm, 1, DELIVERY);
    }

    List<Long> alone = measureHealthy("alone");

    // Mail for the dead site, then healthy mail while it is being tried and given up on.
    long deadMark = node.logMark();
    try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
      c.ehlo("client.test");
      for (int i = 0; i < DEAD_MESSAGES; i++) {
        String rcpt = "user" + i + "@dead.test";
        assertTrue(c.send("alice@senders.test", List.of(rcpt),
            SmtpClient.message("alice@senders.test", rcpt, uniqueId("dead" + i), "to the dead site", 200)).positive());
      }
    }
    List<Long> whileDying = measureHealthy("while-dying");
    String deadLine = node.awaitLog("smtp:\\[127\\.0\\.0\\.1\\]:" + tarpit.port() + ": site is dead until .*", DELIVERY, deadMark).group();
    List<Long> whileDead = measureHealthy("while-dead");

    int deferred = node.countLog("to=<user\\d+@dead\\.test>, .*status=deferred");
    int deadSent = node.countLog("to=<user\\d+@dead\\.test>, .*status=(sent|bounced)");
    System.out.println("[DeliveryDeadSiteTest] " + deadLine);
    int timeouts = node.countLog("to=<user\\d+@dead\\.test>, .*status=deferred \\(conversation with .* timed out while greeting\\)");
    int suspended = node.countLog("to=<user\\d+@dead\\.test>, .*status=deferred \\(delivery temporarily suspended: ");
    System.out.printf("[DeliveryDeadSiteTest] dead.test: %d deferrals logged (%d greeting timeouts at the tarpit,"
        + " %d suspended while the site was dead), %d sent/bounced%n", deferred, timeouts, suspended, deadSent);
    String base = summary(alone);
    System.out.printf("[DeliveryDeadSiteTest] healthy.test latency ms (median/p90/max): alone %s | while the dead site is tried %s"
        + " | while it is marked dead %s%n", base, summary(whileDying), summary(whileDead));

    assertTrue(deferred >= DEAD_MESSAGES, "every dead.test message was deferred: " + deferred);
    assertTrue(suspended > 0, "some dead.test mail was deferred without a connection, while the site was dead");
    assertEquals(0, deadSent, "nothing for dead.test was sent or bounced");
    long baseMedian = percentile(alone, 50);
    long baseMax = percentile(alone, 100);
    for (var measured : List.of(whileDying, whileDead)) {
      assertTrue(percentile(measured, 50) <= 3 * baseMedian + 1_000,
          "healthy median latency stays of the same order: " + summary(measured) + " vs alone " + base);
      assertTrue(percentile(measured, 100) <= baseMax + 2_500,
          "no healthy message waits for the dead site's timeouts (3 s): " + summary(measured) + " vs alone " + base);
    }
  }

  /**
   * Sends {@link #BATCH} healthy messages, one every 300 ms, and returns each one's latency
   * from the start of its SMTP transaction (MAIL FROM) to the sink's dump file being written
   * (its modification time).
   */
  private List<Long> measureHealthy(String tag) {
    Map<String, Instant> acceptedAt = new LinkedHashMap<>();
    List<String> queueIds = new ArrayList<>();
    try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
      c.ehlo("client.test");
      for (int i = 0; i < BATCH; i++) {
        String id = uniqueId(tag + i);
        Instant submitted = Instant.now();
        SmtpClient.Reply r = c.send("alice@senders.test", List.of("h" + i + "@healthy.test"),
            SmtpClient.message("alice@senders.test", "h" + i + "@healthy.test", id, tag, 200));
        acceptedAt.put(id, submitted);
        assertTrue(r.positive(), r::toString);
        queueIds.add(r.text().replaceFirst("(?s).*queued as (\\S+).*", "$1"));
        Ports.sleep(300);
      }
    }
    // status=sent is logged after the sink's 250: by then each dump file is complete.
    for (String q : queueIds) node.awaitLog(Pattern.quote(q) + ": to=<h\\d+@healthy\\.test>, .*status=sent", DELIVERY);
    List<Long> latencies = new ArrayList<>();
    for (var e : acceptedAt.entrySet()) {
      healthy.awaitContaining(e.getKey(), 1, DELIVERY);
      Path file = healthy.messageFiles().stream().filter(f -> read(f).contains(e.getKey())).findFirst().orElseThrow();
      try {
        Instant written = Files.getLastModifiedTime(file).toInstant();
        latencies.add(Math.max(0, Duration.between(e.getValue(), written).toMillis()));
      } catch (IOException x) {
        throw new UncheckedIOException(x);
      }
    }
    return latencies;
  }

  private static String read(Path f) {
    try {
      return Files.readString(f, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    }
  }

  private static long percentile(List<Long> values, int p) {
    List<Long> sorted = values.stream().sorted().toList();
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  private static String summary(List<Long> values) {
    return percentile(values, 50) + "/" + percentile(values, 90) + "/" + percentile(values, 100);
  }
}

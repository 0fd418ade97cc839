package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Internet delivery over DNS: a real dnsmasq answers the node's MX and address lookups, real
 * smtp-sinks listen on port 25 of other loopback addresses (127.X.Y.n, X and Y random per
 * run, so the test does not meet another one's sinks), and the node routes by the default
 * transport (next hop = the recipient's domain, port 25).
 *
 * <ul>
 *   <li>multi.test has three MX hosts: mx1 (preference 10) is dead (nothing listens), mx2 (20)
 *       answers the greeting with 450 (smtp-sink -r CONNECT), mx3 (30) is good: the mail goes
 *       to mx3 on the first attempt, and nothing to mx2.</li>
 *   <li>equal.test has two MX hosts of equal preference: both get some of the mail.</li>
 *   <li>plain.test has no MX but an A record: the host itself is the exchanger.</li>
 *   <li>nx.test does not exist (NXDOMAIN) and nullmx.test publishes "MX 0 ." (RFC 7505): both
 *       bounce at once (status=bounced, relay=none, dsn 5.4.4 and 5.1.0) and the sender,
 *       whose domain senders.test routes to a capturing sink through transport_maps, gets an
 *       RFC 3464 report, parsed with mime4j.</li>
 *   <li>sfail.test is forwarded by dnsmasq to a dead upstream: the lookup fails (SERVFAIL or
 *       timeout); the mail is deferred (4.4.3), retried, and never bounced.</li>
 * </ul>
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DeliveryMxRoutingTest extends SystemTestSupport {
  private static final String SENDER = "alice@senders.test";

  /** 127.X.Y. with X, Y random: this run's own corner of 127.0.0.0/8. */
  private final String net = "127." + ThreadLocalRandom.current().nextInt(100, 250) + "."
      + ThreadLocalRandom.current().nextInt(1, 250) + ".";
  private final String deadMx = net + "1";
  private final String grayMx = net + "2";
  private final String goodMx = net + "3";
  private final String equalA = net + "4";
  private final String equalB = net + "5";
  private final String plainHost = net + "6";

  private SmtpSink capture;
  private Dnsmasq dns;
  private NodeProcess node;

  /** dnsmasq, the sinks and the node. */
  private void startWorld(String... extraDns) throws IOException {
    assertFalse(Ports.listening(deadMx, 25), deadMx + ":25 is taken already");
    int deadUpstream = Dnsmasq.freeUdpAndTcpPort(); // nobody answers there
    List<String> records = new ArrayList<>(List.of(
        "--mx-host=multi.test,mx1.multi.test,10",
        "--mx-host=multi.test,mx2.multi.test,20",
        "--mx-host=multi.test,mx3.multi.test,30",
        "--host-record=mx1.multi.test," + deadMx,
        "--host-record=mx2.multi.test," + grayMx,
        "--host-record=mx3.multi.test," + goodMx,
        "--mx-host=equal.test,a.equal.test,10",
        "--mx-host=equal.test,b.equal.test,10",
        "--host-record=a.equal.test," + equalA,
        "--host-record=b.equal.test," + equalB,
        "--host-record=plain.test," + plainHost,
        "--dns-rr=nullmx.test,15,000000",
        "--server=/sfail.test/127.0.0.1#" + deadUpstream));
    records.addAll(List.of(extraDns));
    dns = closeLater(Dnsmasq.start(dir, records.toArray(String[]::new)));
    capture = sink();
    Path transport = dir.resolve("transport");
    Files.writeString(transport, "senders.test    smtp:[127.0.0.1]:" + capture.port() + "\n");
    node = startNode(dns.configure(node("mxnode").fastRetry(), "1s")
        .set("mta.transport_maps", List.of("texthash:" + transport))
        .set("mta.smtp_connect_timeout", "5s")
        .set("mta.management.listen", "127.0.0.1:" + Ports.free()));
  }

  private SmtpSink sinkAt(String host, String... options) {
    assertFalse(Ports.listening(host, 25), host + ":25 is taken already");
    return closeLater(SmtpSink.start(dir, host, 25, options));
  }

  /** A delivery log line of {@code queueId} for {@code rcpt} with this status; group 1 is the relay, 2 the dsn. */
  private static String line(String queueId, String rcpt, String status) {
    return Pattern.quote(queueId) + ": to=<" + Pattern.quote(rcpt) + ">, relay=(\\S+), delay=\\S+, dsn=(\\S+), status="
        + status + " .*";
  }

  @Test
  void mailGoesToTheBestMxThatAnswersEqualPreferencesShareAndNoMxFallsBackToTheAddress() throws IOException {
    SmtpSink gray = sinkAt(grayMx, "-r", "CONNECT");
    SmtpSink good = sinkAt(goodMx);
    SmtpSink a = sinkAt(equalA);
    SmtpSink b = sinkAt(equalB);
    SmtpSink plain = sinkAt(plainHost);
    startWorld();

    // Three MX hosts: dead, 4xx at the greeting, good.
    String multiId = uniqueId("multi");
    long t0 = System.nanoTime();
    Swaks.Result multi = Swaks.to(node.smtpPort(), "bob@multi.test").from(SENDER).messageId(multiId).run();
    assertTrue(multi.accepted(), multi::toString);
    Matcher sent = node.awaitLog(line(multi.queueId(), "bob@multi.test", "sent"), DELIVERY);
    System.out.printf("[DeliveryMxRoutingTest] multi.test: sent via %s in %d ms after the 250%n", sent.group(1),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    assertEquals("mx3.multi.test[" + goodMx + "]:25", sent.group(1), () -> "the third MX host took it\n" + node.tail(30));
    good.awaitContaining(multiId, 1, DELIVERY);
    assertEquals(0, node.countLog(Pattern.quote(multi.queueId()) + ": to=<bob@multi\\.test>.*status=deferred"),
        () -> "the dead and the 4xx MX hosts are skipped within one attempt, not deferred\n" + node.tail(40));
    assertEquals(0, gray.count(), "the 4xx-greeting MX took nothing");
    // Its -c counters: one session was our own readiness probe, the other the node, told 450.
    assertTrue(gray.log().contains("sess=2"), () -> "the node tried mx2 (450 greeting) before mx3: " + gray.log());

    // Equal preferences: each lookup shuffles them, so both hosts get some of 12 messages.
    List<String> equalIds = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String id = uniqueId("equal" + i);
      equalIds.add(id);
      Swaks.Result r = Swaks.to(node.smtpPort(), "carol@equal.test").from(SENDER).messageId(id).run();
      assertTrue(r.accepted(), r::toString);
    }
    long deadline = System.nanoTime() + DELIVERY.toNanos();
    while (a.count() + b.count() < 12 && System.nanoTime() < deadline) Ports.sleep(200);
    System.out.printf("[DeliveryMxRoutingTest] equal.test (two MX at preference 10): a=%d b=%d of 12%n", a.count(), b.count());
    assertEquals(12, a.count() + b.count(), () -> "every message to equal.test arrived once\n" + node.tail(40));
    assertTrue(a.count() > 0 && b.count() > 0, "both MX hosts of equal preference got mail: a=" + a.count() + " b=" + b.count());

    // No MX record: the A record of the domain itself.
    String plainId = uniqueId("plain");
    Swaks.Result p = Swaks.to(node.smtpPort(), "dave@plain.test").from(SENDER).messageId(plainId).run();
    assertTrue(p.accepted(), p::toString);
    Matcher plainSent = node.awaitLog(line(p.queueId(), "dave@plain.test", "sent"), DELIVERY);
    assertEquals("plain.test[" + plainHost + "]:25", plainSent.group(1), plainSent.group());
    plain.awaitContaining(plainId, 1, DELIVERY);

    // Nothing went back to the sender.
    holdsFor(Duration.ofSeconds(1), () -> capture.count() == 0, "no notice for delivered mail");
  }

  @Test
  void nxdomainAndNullMxBounceAtOnceWithADeliveryStatusNotification() throws IOException {
    startWorld();
    String nxId = uniqueId("nx");
    String nullId = uniqueId("nullmx");
    Swaks.Result nx = Swaks.to(node.smtpPort(), "erin@nx.test").from(SENDER).messageId(nxId).subject("to nowhere").run();
    Swaks.Result nul = Swaks.to(node.smtpPort(), "frank@nullmx.test").from(SENDER).messageId(nullId).subject("to null mx").run();
    assertTrue(nx.accepted(), nx::toString);
    assertTrue(nul.accepted(), nul::toString);

    Matcher nxLine = node.awaitLog(line(nx.queueId(), "erin@nx.test", "bounced"), DELIVERY);
    Matcher nullLine = node.awaitLog(line(nul.queueId(), "frank@nullmx.test", "bounced"), DELIVERY);
    System.out.println("[DeliveryMxRoutingTest] " + nxLine.group());
    System.out.println("[DeliveryMxRoutingTest] " + nullLine.group());
    assertEquals("none", nxLine.group(1));
    assertEquals("5.4.4", nxLine.group(2), nxLine.group());
    assertTrue(nxLine.group().contains("Host not found"), nxLine.group());
    assertEquals("none", nullLine.group(1));
    assertEquals("5.1.0", nullLine.group(2), nullLine.group());
    assertTrue(nullLine.group().contains("nullMX"), nullLine.group());

    // One report each, from the null sender, to alice@senders.test.
    // The notices' own deliveries are logged after the sink's 250: their dump files are complete.
    long deadline = System.nanoTime() + DELIVERY.toNanos();
    while (node.countLog(": to=<alice@senders\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + capture.port() + ", .*status=sent") < 2) {
      if (System.nanoTime() > deadline) throw new AssertionError("two notices delivered to the sender\n" + node.tail(40));
      Ports.sleep(200);
    }
    checkReport(dsnFor(nxId), "erin@nx.test", "5.4.4", nxId);
    checkReport(dsnFor(nullId), "frank@nullmx.test", "5.1.0", nullId);

    // At once means at once: no deferral first, and no second try afterwards.
    holdsFor(Duration.ofSeconds(5), () -> capture.count() == 2, "exactly two notices");
    assertEquals(0, node.countLog(Pattern.quote(nx.queueId()) + ": to=<.*status=deferred"), () -> node.tail(40));
    assertEquals(0, node.countLog(Pattern.quote(nul.queueId()) + ": to=<.*status=deferred"), () -> node.tail(40));
    assertEquals(1, node.countLog(line(nx.queueId(), "erin@nx.test", "bounced")), () -> node.tail(40));
    assertEquals(1, node.countLog(line(nul.queueId(), "frank@nullmx.test", "bounced")), () -> node.tail(40));
  }

  @Test
  void aFailingNameServerDefersAndNeverBounces() throws IOException {
    startWorld();
    String id = uniqueId("sfail");
    Swaks.Result r = Swaks.to(node.smtpPort(), "gina@sfail.test").from(SENDER).messageId(id).run();
    assertTrue(r.accepted(), r::toString);
    Matcher deferred = node.awaitLog(line(r.queueId(), "gina@sfail.test", "deferred"), DELIVERY);
    System.out.println("[DeliveryMxRoutingTest] " + deferred.group());
    assertTrue(deferred.group(2).startsWith("4."), deferred.group());
    assertEquals("4.4.3", deferred.group(2), deferred.group());
    assertTrue(deferred.group().contains("try again"), deferred.group());
    // Retried on later queue runs (backoff 2s), never bounced, nothing sent back.
    node.awaitLog(line(r.queueId(), "gina@sfail.test", "deferred"), Duration.ofSeconds(30), deferred.end());
    holdsFor(Duration.ofSeconds(6), () -> node.countLog(Pattern.quote(r.queueId()) + ": to=<.*status=bounced") == 0
        && capture.count() == 0, "a DNS failure bounced the mail");
    int tries = node.countLog(line(r.queueId(), "gina@sfail.test", "deferred"));
    System.out.printf("[DeliveryMxRoutingTest] sfail.test: %d deferrals, 0 bounces%n", tries);
    assertTrue(tries >= 2, "retried: " + tries);
  }

  private DeliveryDsn dsnFor(String messageId) {
    String dump = capture.messages().stream().filter(m -> m.contains(messageId)).findFirst()
        .orElseThrow(() -> new AssertionError("no notice about " + messageId + " at the sender's sink\n" + node.tail(40)));
    assertTrue(DeliveryDsn.isDsn(dump), () -> "a DSN from <>:\n" + dump);
    return DeliveryDsn.parse(dump);
  }

  static void checkReport(DeliveryDsn dsn, String recipient, String status, String originalMessageId) {
    checkReport(dsn, recipient, "failed", status, originalMessageId);
  }

  /** An RFC 3464 report from {@code <>} about {@code recipient} with this Action and Status, and the original's headers. */
  static void checkReport(DeliveryDsn dsn, String recipient, String action, String status, String originalMessageId) {
    assertEquals("multipart/report", dsn.mimeType(), dsn::toString);
    assertEquals("delivery-status", dsn.reportType(), dsn::toString);
    assertEquals("<>", dsn.envelopeSender(), dsn::toString);
    assertTrue(dsn.partTypes().size() >= 3, dsn::toString);
    assertEquals("text/plain", dsn.partTypes().get(0), dsn::toString);
    assertEquals("message/delivery-status", dsn.partTypes().get(1), dsn::toString);
    assertTrue(List.of("message/rfc822", "text/rfc822-headers").contains(dsn.originalType()), dsn::toString);
    assertTrue(dsn.statusGroups().get(0).containsKey("reporting-mta"), dsn::toString);
    var r = dsn.recipient(recipient);
    assertNotNull(r, () -> "a Final-Recipient: rfc822; " + recipient + "\n" + dsn);
    assertEquals(action, r.get("action").toLowerCase(), dsn::toString);
    assertEquals(status, r.get("status"), dsn::toString);
    assertTrue(dsn.original().contains(originalMessageId), () -> "the original headers come back\n" + dsn);
    assertTrue(dsn.original().contains("From: ") || dsn.original().contains("from: "), dsn::toString);
  }
}

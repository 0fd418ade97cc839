package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * smtpd's TLS with real peers: openssl s_client and posttls-finger see STARTTLS and TLS 1.2+,
 * swaks delivers over it (ESMTPS and the cipher in Received), plaintext pipelined after
 * STARTTLS is dropped (CVE-2011-0411), encrypt refuses MAIL in plaintext, and the
 * submissions port speaks TLS from the first byte.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class TlsTest extends SystemTestSupport {

  /** A self-signed certificate for CN=name and its PKCS#8 key: {cert, key}. */
  static Path[] certificate(Path dir, String name) {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Exec.Result r = Exec.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=" + name, "-keyout", key.toString(), "-out", cert.toString()), Duration.ofSeconds(60));
    assertEquals(0, r.exitCode(), r::toString);
    return new Path[] {cert, key};
  }

  /** swaks marks replies read under TLS "<~", which Swaks.Result does not parse. */
  static boolean queuedUnderTls(Swaks.Result swaks) {
    return swaks.transcript().matches("(?s).*\n\\s*<~ +250 [^\n]*queued as .*");
  }

  private NodeProcess tlsNode(String level, SmtpSink sink, String... more) {
    Path[] files = certificate(dir, "tls.test");
    NodeProcess.Builder b = node("tls").relayhost(sink.port())
        .set("mta.smtpd_tls_security_level", level)
        .set("mta.smtpd_tls_cert_file", files[0].toString())
        .set("mta.smtpd_tls_key_file", files[1].toString());
    for (int i = 0; i < more.length; i += 2) b.set(more[i], more[i + 1]);
    return startNode(b);
  }

  @Test
  void starttlsWithRealPeers() {
    SmtpSink sink = sink();
    NodeProcess node = tlsNode("may", sink);

    Exec.Result s = Exec.run(List.of("openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + node.smtpPort(),
        "-servername", "tls.test"), Duration.ofSeconds(30));
    assertTrue(s.output().contains("CN=tls.test") || s.output().contains("CN = tls.test"), s::toString);
    assertTrue(s.output().matches("(?s).*Protocol *: TLSv1\\.[23].*|(?s).*New, TLSv1\\.[23].*"), s::toString);
    node.awaitLog("Anonymous TLS connection established from .*\\[127\\.0\\.0\\.1\\]: TLSv1\\.3 with cipher TLS_\\S+ \\(\\d+/\\d+ bits\\)",
        Duration.ofSeconds(10));

    Exec.Result tls12 = Exec.run(List.of("openssl", "s_client", "-starttls", "smtp", "-tls1_2", "-connect",
        "127.0.0.1:" + node.smtpPort()), Duration.ofSeconds(30));
    assertTrue(tls12.output().contains("TLSv1.2"), tls12::toString);
    Exec.Result tls11 = Exec.run(List.of("openssl", "s_client", "-starttls", "smtp", "-tls1_1", "-connect",
        "127.0.0.1:" + node.smtpPort()), Duration.ofSeconds(30));
    assertTrue(tls11.output().contains("Cipher is (NONE)"), tls11::toString);

    Exec.Result finger = Exec.run(List.of("posttls-finger", "-c", "-l", "may", "[127.0.0.1]:" + node.smtpPort()),
        Duration.ofSeconds(30));
    assertTrue(finger.output().matches("(?s).*(Anonymous|Untrusted) TLS connection established to .*TLSv1\\.[23].*"),
        finger::toString);

    String id = uniqueId("tls");
    Swaks.Result swaks = Swaks.to(node.smtpPort(), "tls@remote.example").option("--tls").messageId(id).run();
    assertTrue(queuedUnderTls(swaks), swaks::toString);
    sink.awaitContaining(id, 1, DELIVERY);
    String message = sink.messages().stream().filter(m -> m.contains(id)).findFirst().orElseThrow();
    assertTrue(message.matches("(?s).*\\(using TLSv1\\.3 with cipher TLS_\\S+ \\(\\d+/\\d+ bits\\)\\)\r?\n\\s+by tls\\.test \\(mta\\) with ESMTPS .*"),
        message);
  }

  @Test
  void plaintextPipelinedAfterStarttlsIsDropped() throws Exception {
    SmtpSink sink = sink();
    NodeProcess node = tlsNode("may", sink);
    try (Socket socket = new Socket("127.0.0.1", node.smtpPort())) {
      socket.setSoTimeout(10_000);
      var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = socket.getOutputStream();
      assertTrue(in.readLine().startsWith("220 "));
      out.write("EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
      String line;
      do line = in.readLine(); while (line.startsWith("250-"));
      out.write("STARTTLS\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertEquals("220 2.0.0 Ready to start TLS", in.readLine());
      Thread.sleep(500);
      assertEquals(0, socket.getInputStream().available(), "nothing but the 220 in plaintext");

      SSLContext trustAll = SSLContext.getInstance("TLS");
      trustAll.init(null, new TrustManager[] {new X509TrustManager() {
        public void checkClientTrusted(X509Certificate[] c, String a) {}
        public void checkServerTrusted(X509Certificate[] c, String a) {}
        public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
      }}, null);
      try (var tls = (SSLSocket) trustAll.getSocketFactory().createSocket(socket, "127.0.0.1", node.smtpPort(), true)) {
        tls.startHandshake();
        var tin = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII));
        var tout = tls.getOutputStream();
        tout.write("NOOP\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
        tout.flush();
        assertEquals("250 2.0.0 Ok", tin.readLine(), "the NOOP sent under TLS, and only that one");
        assertEquals("221 2.0.0 Bye", tin.readLine());
      }
    }
  }

  @Test
  void encryptRefusesMailInPlaintext() {
    SmtpSink sink = sink();
    NodeProcess node = tlsNode("encrypt", sink);
    try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
      c.greeting();
      assertTrue(c.ehlo("client.test").lines().contains("STARTTLS"));
      SmtpClient.Reply mail = c.command("MAIL FROM:<a@client.test>");
      assertEquals("530 5.7.0 Must issue a STARTTLS command first", mail.text());
    }
    Swaks.Result swaks = Swaks.to(node.smtpPort(), "enc@remote.example").option("--tls").run();
    assertTrue(queuedUnderTls(swaks), swaks::toString);
  }

  @Test
  void submissionsIsTlsFromTheFirstByte() {
    SmtpSink sink = sink();
    int submissions = Ports.free();
    NodeProcess node = tlsNode("none", sink, "mta.listen.submissions", "127.0.0.1:" + submissions);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Ports.listening(submissions) && System.nanoTime() < deadline) Ports.sleep(200);
    Exec.Result s = Exec.run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + submissions, "-ign_eof"),
        Duration.ofSeconds(10));
    assertTrue(s.output().contains("220 tls.test ESMTP"), s::toString);
    Swaks.Result plain = Swaks.to(node.smtpPort(), "x@remote.example").option("--quit-after", "EHLO").run();
    assertTrue(!plain.transcript().contains("STARTTLS"), "level none: no STARTTLS on port 25\n" + plain);
    Swaks.Result wrapped = Swaks.to(submissions, "x@remote.example").option("--tlsc", "--quit-after", "MAIL").run();
    assertTrue(wrapped.transcript().contains("<~* 530 5.7.0 Authentication required"), wrapped::toString);
  }

  @Test
  void clientStartsTlsWithTheNextHop() {
    SmtpSink sink = sink();
    NodeProcess hop = tlsNode("may", sink);
    NodeProcess edge = startNode(node("edge").relayhost(hop.smtpPort()).set("mta.smtp_tls_security_level", "encrypt"));
    String id = uniqueId("client-tls");
    Swaks.Result swaks = Swaks.to(edge.smtpPort(), "far@remote.example").messageId(id).run();
    assertTrue(swaks.accepted(), swaks::toString);
    sink.awaitContaining(id, 1, DELIVERY);
    edge.awaitLog("Untrusted TLS connection established to .*:" + hop.smtpPort() + ": TLSv1\\.3 with cipher", DELIVERY);
    String message = sink.messages().stream().filter(m -> m.contains(id)).findFirst().orElseThrow();
    assertTrue(message.matches("(?s).*by tls\\.test \\(mta\\) with ESMTPS .*"), message);
  }
}

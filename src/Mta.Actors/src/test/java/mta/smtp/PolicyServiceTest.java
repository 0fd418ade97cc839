package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import mta.mail.MailAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * check_policy_service against a small real policy server speaking Postfix's protocol over TCP:
 * a greylister (first sight of a client/sender/recipient triplet: DEFER_IF_PERMIT; later: DUNNO).
 */
class PolicyServiceTest {

  /** A greylisting policy server on a loopback port; it remembers every request it saw. */
  static final class Greylister implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final Set<String> seen = ConcurrentHashMap.newKeySet();
    final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    volatile boolean silent;

    Greylister() throws IOException {
      Thread.ofVirtual().start(this::accept);
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          var socket = server.accept();
          connections.incrementAndGet();
          Thread.ofVirtual().start(() -> serve(socket));
        } catch (IOException e) {
          return;
        }
      }
    }

    /** One connection, any number of requests, as Postfix reuses connections. */
    private void serve(Socket socket) {
      try (socket;
           var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
           var out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8)) {
        var request = new LinkedHashMap<String, String>();
        for (String line; (line = in.readLine()) != null; ) {
          if (!line.isEmpty()) {
            int eq = line.indexOf('=');
            request.put(line.substring(0, eq), line.substring(eq + 1));
            continue;
          }
          requests.add(Map.copyOf(request));
          if (silent) continue;
          var triplet = request.get("client_address") + "/" + request.get("sender") + "/" + request.get("recipient");
          out.write(seen.add(triplet) ? "action=DEFER_IF_PERMIT Greylisted, see http://greylist.test/\n\n" : "action=DUNNO\n\n");
          out.flush();
          request.clear();
        }
      } catch (IOException e) {
        // the client went away
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private Greylister greylister;

  @AfterEach
  void stop() throws IOException {
    if (greylister != null) greylister.close();
  }

  private static final ClientInfo CLIENT = Policy.client("192.0.2.10", "mail.client.example");

  private static String rcpt(SmtpChecks checks, String sender, String recipient) {
    return rcpt(checks, sender, recipient, null, null);
  }

  private static String rcpt(SmtpChecks checks, String sender, String recipient, SmtpdState.SaslLogin sasl,
      SmtpdState.TlsSession tls) {
    var state = new SmtpdState("RCPT", CLIENT, "mail.client.example", "ESMTP", MailAddress.parse(sender),
        Policy.rcpt(recipient), 0, sasl, tls, false, 1234, "7e1.1", false, null);
    var verdict = checks.rcpt(state);
    return verdict.reply() == null ? "ok" : verdict.reply().oneLine();
  }

  private SmtpChecks greylisting(String extra) throws IOException {
    greylister = new Greylister();
    return Policy.checks("""
        mta.mydestination = [ example.net ]
        mta.smtpd_policy_service_timeout = 2s
        mta.smtpd_recipient_restrictions = [ reject_unauth_destination, "check_policy_service inet:127.0.0.1:%d" ]
        %s
        """.formatted(greylister.port(), extra));
  }

  @Test
  void greylistingDefersTheFirstAttemptOnly() throws IOException {
    var checks = greylisting("");
    assertEquals("450 4.7.1 <b@example.net>: Recipient address rejected: Greylisted, see http://greylist.test/",
        rcpt(checks, "a@remote.example", "<b@example.net>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<b@example.net>"));
    assertEquals("450 4.7.1 <c@example.net>: Recipient address rejected: Greylisted, see http://greylist.test/",
        rcpt(checks, "a@remote.example", "<c@example.net>"));
    assertEquals(1, greylister.connections.get(), "one connection, reused");
  }

  @Test
  void theServerSeesPostfixsAttributes() throws IOException {
    var checks = greylisting("");
    rcpt(checks, "a@remote.example", "<b@example.net>");
    var request = greylister.requests.getFirst();
    assertEquals("smtpd_access_policy", request.get("request"));
    assertEquals("RCPT", request.get("protocol_state"));
    assertEquals("ESMTP", request.get("protocol_name"));
    assertEquals("192.0.2.10", request.get("client_address"));
    assertEquals("mail.client.example", request.get("client_name"));
    assertEquals("mail.client.example", request.get("helo_name"));
    assertEquals("a@remote.example", request.get("sender"));
    assertEquals("b@example.net", request.get("recipient"));
    assertEquals("7e1.1", request.get("instance"));
    assertEquals("1234", request.get("size"));
    assertEquals("", request.get("sasl_method"));
    assertEquals("", request.get("sasl_username"));
    assertEquals("", request.get("encryption_protocol"));
    assertEquals("", request.get("encryption_cipher"));
    assertEquals("0", request.get("encryption_keysize"));
  }

  @Test
  void theServerSeesTheSaslLoginAndTheTlsSession() throws IOException {
    var checks = greylisting("");
    rcpt(checks, "a@remote.example", "<b@example.net>", new SmtpdState.SaslLogin("LOGIN", "alice"),
        new SmtpdState.TlsSession("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256));
    var request = greylister.requests.getFirst();
    assertEquals("LOGIN", request.get("sasl_method"));
    assertEquals("alice", request.get("sasl_username"));
    assertEquals("TLSv1.3", request.get("encryption_protocol"));
    assertEquals("TLS_AES_256_GCM_SHA384", request.get("encryption_cipher"));
    assertEquals("256", request.get("encryption_keysize"));
  }

  @Test
  void aRejectAfterTheDeferStillRejects() throws IOException {
    var checks = greylisting("mta.smtpd_relay_restrictions = [ reject_unauth_destination ]");
    assertTrue(rcpt(checks, "a@remote.example", "<b@elsewhere.example>").startsWith("554 5.7.1"));
  }

  @Test
  void aSilentServerGivesTheDefaultActionInTime() throws IOException {
    var checks = greylisting("");
    greylister.silent = true;
    long start = System.nanoTime();
    assertEquals("451 4.3.5 <b@example.net>: Recipient address rejected: Server configuration problem",
        rcpt(checks, "a@remote.example", "<b@example.net>"));
    assertTrue(System.nanoTime() - start < 6_000_000_000L, "bounded by smtpd_policy_service_timeout");
  }

  @Test
  void anUnreachableServerGivesTheDefaultAction() throws IOException {
    int closed;
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    var checks = Policy.checks("""
        mta.mydestination = [ example.net ]
        mta.smtpd_recipient_restrictions = [ "check_policy_service inet:127.0.0.1:%d" ]
        """.formatted(closed));
    assertEquals("451 4.3.5 <b@example.net>: Recipient address rejected: Server configuration problem",
        rcpt(checks, "a@remote.example", "<b@example.net>"));
  }

  @Test
  void greylistingAsARestrictionClass() throws IOException {
    greylister = new Greylister();
    var checks = Policy.checks("""
        mta.mydestination = [ example.net ]
        mta.smtpd_restriction_classes { greylist = [ "check_policy_service inet:127.0.0.1:%d" ] }
        mta.smtpd_recipient_restrictions = [ "check_sender_access inline:{ suspicious.example=greylist }" ]
        """.formatted(greylister.port()));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<b@example.net>"));
    assertTrue(rcpt(checks, "a@suspicious.example", "<b@example.net>").startsWith("450 4.7.1"));
    assertEquals(1, greylister.requests.size());
  }
}

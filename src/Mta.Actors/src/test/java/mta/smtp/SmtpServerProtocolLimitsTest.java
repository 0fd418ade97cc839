package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import mta.anvil.Anvil;
import mta.anvil.AnvilClient;
import mta.anvil.ClientCounts;
import mta.anvil.ClientLimits;
import mta.maps.Cidr;
import mta.smtp.SmtpServerProtocol.Security;
import mta.smtp.SmtpServerProtocol.Step;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/** smtpd's per-client limits as the protocol applies them, on anvil's real counting logic. */
class SmtpServerProtocolLimitsTest {
  private static final String HOST = "mx.example.net";
  private static final SmtpChecks RELAY = Policy.checks("mta.mynetworks = []\nmta.mydestination = [ example.net ]");
  private static final SaslPasswords PASSWORDS = (user, password) -> user.equals("alice") && password.equals("secret");

  /** The entity's counting without the cluster: every client of a test shares one counter. */
  private static final class InProcessAnvil implements AnvilClient {
    final ClientCounts counts = new ClientCounts(60_000);

    @Override
    public CompletionStage<Anvil.Connected> connect(String address, ActorRef<?> session) {
      return CompletableFuture.completedFuture(counts.connect(0));
    }

    @Override
    public Anvil.MailCounted mail(String address) {
      return counts.mail(0);
    }

    @Override
    public void rcpt(String address) {
      counts.rcpt(0);
    }

    @Override
    public int auth(String address) {
      return counts.auth(0);
    }
  }

  private final InProcessAnvil anvil = new InProcessAnvil();

  private SmtpServerProtocol session(ClientLimits limits, String address) throws Exception {
    var settings = new SmtpdSettings(HOST, 1000, 100, 10, 20, "mta", false, false, false);
    var security = new Security("smtp", false, false, false, false, PASSWORDS);
    var smtpd = new SmtpServerProtocol(settings, new ClientInfo(InetAddress.getByName(address), 1, "unknown"), RELAY,
        security, limits, anvil);
    smtpd.greeting();
    say(smtpd, "EHLO client.example");
    return smtpd;
  }

  private static ClientLimits limits(int count, int mail, int rcpt, int auth, String... exceptions) {
    return new ClientLimits(count, 0, mail, rcpt, auth, Duration.ofSeconds(60), List.of(exceptions).stream().map(Cidr::parse).toList());
  }

  private static String say(SmtpServerProtocol smtpd, String line) {
    return switch (smtpd.onCommand(line)) {
      case Step.Respond r -> r.reply().wire().strip();
      case Step.RespondAndClose r -> r.reply().wire().strip();
      case Step step -> step.toString();
    };
  }

  @Test
  void connectionCountOverTheLimitIsRefusedWith421() throws Exception {
    var limits = limits(2, 0, 0, 0);
    var smtpd = session(limits, "198.51.100.7");
    assertNull(smtpd.connectionLimit(anvil.counts.connect(0)));
    assertNull(smtpd.connectionLimit(anvil.counts.connect(0)));
    assertEquals("421 4.7.0 mx.example.net Error: too many connections from 198.51.100.7",
        smtpd.connectionLimit(anvil.counts.connect(0)).wire().strip());
  }

  @Test
  void messageRateCountsEveryMailCommand() throws Exception {
    var smtpd = session(limits(0, 2, 0, 0), "198.51.100.7");
    assertEquals("250 2.1.0 Ok", say(smtpd, "MAIL FROM:<a@example.com>"));
    say(smtpd, "RSET");
    assertEquals("250 2.1.0 Ok", say(smtpd, "MAIL FROM:<a@example.com>"));
    say(smtpd, "RSET");
    assertEquals("450 4.7.1 Error: too much mail from 198.51.100.7", say(smtpd, "MAIL FROM:<a@example.com>"));
    var other = session(limits(0, 2, 0, 0), "198.51.100.7");
    assertEquals("450 4.7.1 Error: too much mail from 198.51.100.7", say(other, "MAIL FROM:<a@example.com>"),
        "the limit is the client's, not the session's");
  }

  @Test
  void recipientRateCarriesOverTransactionsAndSessions() throws Exception {
    var smtpd = session(limits(0, 0, 3, 0), "198.51.100.7");
    say(smtpd, "MAIL FROM:<a@example.com>");
    assertEquals("250 2.1.5 Ok", say(smtpd, "RCPT TO:<u1@example.net>"));
    assertEquals("250 2.1.5 Ok", say(smtpd, "RCPT TO:<u2@example.net>"));
    var other = session(limits(0, 0, 3, 0), "198.51.100.7");
    say(other, "MAIL FROM:<a@example.com>");
    assertEquals("250 2.1.5 Ok", say(other, "RCPT TO:<u3@example.net>"));
    assertEquals("450 4.7.1 Error: too many recipients from 198.51.100.7", say(other, "RCPT TO:<u4@example.net>"));
  }

  @Test
  void authRateStopsPasswordGuessing() throws Exception {
    var smtpd = session(limits(0, 0, 0, 2), "198.51.100.7");
    var guess = "AUTH PLAIN " + Base64.getEncoder().encodeToString("\0alice\0guess".getBytes(StandardCharsets.UTF_8));
    assertEquals("535 5.7.8 Error: authentication failed", say(smtpd, guess));
    assertEquals("535 5.7.8 Error: authentication failed", say(smtpd, guess));
    var right = "AUTH PLAIN " + Base64.getEncoder().encodeToString("\0alice\0secret".getBytes(StandardCharsets.UTF_8));
    assertEquals("450 4.7.1 Error: too many AUTH commands from 198.51.100.7", say(smtpd, right),
        "over the limit even the right password waits");
  }

  @Test
  void exceptionsAreNeverCounted() throws Exception {
    var smtpd = session(limits(1, 1, 1, 1, "198.51.100.0/24"), "198.51.100.7");
    for (int i = 0; i < 3; i++) {
      assertEquals("250 2.1.0 Ok", say(smtpd, "MAIL FROM:<a@example.com>"));
      assertEquals("250 2.1.5 Ok", say(smtpd, "RCPT TO:<u@example.net>"));
      say(smtpd, "RSET");
    }
    assertEquals(new Anvil.MailCounted(1, 0), anvil.counts.mail(0), "anvil was never told");
  }

  @Test
  void pregreetIsRefusedWithProtocolError() throws Exception {
    var smtpd = session(ClientLimits.NONE, "198.51.100.7");
    assertEquals("521 5.5.1 Protocol error", smtpd.pregreet(12, "EHLO bot\r\n", 0.25).wire().strip());
    assertInstanceOf(Step.Respond.class, smtpd.onCommand("NOOP"));
  }
}

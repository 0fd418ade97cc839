package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import mta.maps.LookupFailure;
import mta.smtp.SmtpServerProtocol.Security;
import mta.smtp.SmtpServerProtocol.Step;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.bcrypt.BCrypt;

/** STARTTLS levels, SMTP AUTH (PLAIN, LOGIN) and the submission ports, as the protocol sees them. */
class SmtpServerProtocolAuthTest {
  private static final String HOST = "mx.example.net";
  private static final SmtpChecks RELAY = Policy.checks("mta.mynetworks = [ \"127.0.0.0/8\" ]\nmta.mydestination = [ example.net ]");
  private static final Map<String, String> USERS = Map.of("alice", "{bcrypt}" + BCrypt.hashpw("secret", BCrypt.gensalt(4)));
  private static final SaslPasswords PASSWORDS = (user, password) -> {
    if (user.equals("broken")) throw new LookupFailure("table down", null);
    var hash = USERS.get(user);
    return hash != null && BCrypt.checkpw(password, hash.substring("{bcrypt}".length()));
  };

  private SmtpServerProtocol smtpd;

  private void start(boolean tls, Security security) throws Exception {
    var settings = new SmtpdSettings(HOST, 1000, 10, 10, 20, "mta", tls, false, false);
    smtpd = new SmtpServerProtocol(settings, new ClientInfo(InetAddress.getByName("192.0.2.10"), 1, "client.example"), RELAY, security);
    smtpd.greeting();
  }

  private String say(String line) {
    return switch (smtpd.onCommand(line)) {
      case Step.Respond r -> r.reply().wire().strip();
      case Step.RespondAndClose r -> r.reply().wire().strip();
      case Step.StartTls r -> r.reply().wire().strip();
      case Step step -> step.toString();
    };
  }

  private static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void encryptRequiresStartTlsBeforeMail() throws Exception {
    start(true, new Security("smtp", true, false, false, true, null));
    say("EHLO client.example");
    assertEquals("530 5.7.0 Must issue a STARTTLS command first", say("MAIL FROM:<a@example.com>"));
    assertInstanceOf(Step.StartTls.class, smtpd.onCommand("STARTTLS"));
    say("EHLO client.example");
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@example.com>"));
  }

  @Test
  void authIsOfferedOnlyUnderTls() throws Exception {
    start(true, new Security("smtp", false, false, false, true, PASSWORDS));
    var before = say("EHLO client.example");
    assertTrue(before.contains("STARTTLS") && !before.contains("AUTH"), before);
    assertEquals("503 5.5.1 Error: authentication not enabled", say("AUTH PLAIN " + b64("\0alice\0secret")));
    say("STARTTLS");
    var after = say("EHLO client.example");
    assertTrue(after.contains("250-AUTH PLAIN LOGIN") && !after.contains("STARTTLS"), after);
  }

  @Test
  void plainWithInitialResponseAndWithout() throws Exception {
    start(false, new Security("smtp", false, true, false, true, PASSWORDS));
    say("EHLO client.example");
    assertEquals("535 5.7.8 Error: authentication failed", say("AUTH PLAIN " + b64("\0alice\0wrong")));
    assertEquals("334", say("AUTH PLAIN"));
    assertEquals("235 2.7.0 Authentication successful", say(b64("alice\0alice\0secret")));
    assertEquals("alice", smtpd.authenticatedUser());
    assertEquals("PLAIN", smtpd.saslMethod());
    assertEquals("503 5.5.1 Error: already authenticated", say("AUTH PLAIN " + b64("\0alice\0secret")));
    say("MAIL FROM:<alice@example.com>");
    // permit_sasl_authenticated: relaying for the authenticated user.
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<someone@elsewhere.example>"));
    say("DATA");
    var step = assertInstanceOf(Step.Enqueue.class, smtpd.onData(new DataResult.Complete("x\r\n".getBytes(StandardCharsets.US_ASCII))));
    assertEquals("ESMTPSA", step.protocol());
  }

  @Test
  void loginAskingForEachPartAndAborts() throws Exception {
    start(false, new Security("smtp", false, false, false, false, PASSWORDS));
    say("EHLO client.example");
    say("MAIL FROM:<alice@example.com>");
    assertEquals("503 5.5.1 Error: MAIL transaction in progress", say("AUTH LOGIN"));
    say("RSET");
    assertEquals("334 VXNlcm5hbWU6", say("AUTH LOGIN"));
    assertEquals("334 UGFzc3dvcmQ6", say(b64("alice")));
    assertEquals("535 5.7.8 Error: authentication failed", say(b64("nope")));
    assertEquals("334 UGFzc3dvcmQ6", say("AUTH LOGIN " + b64("alice")));
    assertEquals("501 5.7.0 Authentication aborted", say("*"));
    assertEquals("334 VXNlcm5hbWU6", say("AUTH LOGIN"));
    assertEquals("501 5.5.2 Cannot decode response", say("!!!"));
    assertEquals("535 5.7.8 Error: authentication failed: Invalid authentication mechanism", say("AUTH CRAM-MD5"));
    assertEquals("454 4.7.0 Temporary authentication failure", say("AUTH PLAIN " + b64("\0broken\0x")));
    assertEquals("334 VXNlcm5hbWU6", say("AUTH LOGIN"));
    say(b64("alice"));
    assertEquals("235 2.7.0 Authentication successful", say(b64("secret")));
    assertEquals("LOGIN", smtpd.saslMethod());
  }

  @Test
  void submissionWantsAuthBeforeMailAndStartTlsForgetsIt() throws Exception {
    start(true, new Security("smtp", false, false, true, false, PASSWORDS));
    say("EHLO client.example");
    assertEquals("530 5.7.0 Authentication required", say("MAIL FROM:<alice@example.com>"));
    say("AUTH PLAIN " + b64("\0alice\0secret"));
    say("STARTTLS");
    assertEquals(null, smtpd.authenticatedUser());
    say("EHLO client.example");
    assertEquals("530 5.7.0 Authentication required", say("MAIL FROM:<alice@example.com>"));
  }
}

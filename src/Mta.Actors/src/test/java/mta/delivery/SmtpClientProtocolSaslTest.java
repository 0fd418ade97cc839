package mta.delivery;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.Set;
import mta.delivery.SmtpClientProtocol.Next;
import mta.delivery.SmtpClientProtocol.SaslLogin;
import mta.delivery.SmtpClientProtocol.TlsLevel;
import mta.mail.Reply;
import org.junit.jupiter.api.Test;

/** Client AUTH (RFC 4954): PLAIN and LOGIN, after TLS, never a password where the options forbid it. */
class SmtpClientProtocolSaslTest {
  private static final SaslLogin DEFAULTS = new SaslLogin("joe", "s3cret", Set.of(), Set.of("PLAIN", "LOGIN"));

  private SmtpClientProtocol smtp;

  private Next greetAndEhlo(TlsLevel level, SaslLogin login, String... ehlo) {
    smtp = new SmtpClientProtocol("client.example", level, login);
    smtp.onConnected();
    assertWrites("EHLO client.example\r\n", smtp.onLine("220 relay.example ESMTP"));
    for (int i = 0; i < ehlo.length - 1; i++) smtp.onLine(ehlo[i]);
    return smtp.onLine(ehlo[ehlo.length - 1]);
  }

  /** Up to the second EHLO's reply, under TLS. */
  private Next afterTls(SaslLogin login, String... ehlo) {
    assertWrites("STARTTLS\r\n", greetAndEhlo(TlsLevel.MAY, login, "250-relay.example", "250-AUTH PLAIN LOGIN", "250 STARTTLS"));
    assertInstanceOf(Next.StartTls.class, smtp.onLine("220 2.0.0 Ready to start TLS"));
    assertWrites("EHLO client.example\r\n", smtp.onTlsEstablished());
    for (int i = 0; i < ehlo.length - 1; i++) smtp.onLine(ehlo[i]);
    return smtp.onLine(ehlo[ehlo.length - 1]);
  }

  private static String written(Next next) {
    return new String(assertInstanceOf(Next.Write.class, next).bytes(), ISO_8859_1);
  }

  private static void assertWrites(String expected, Next next) {
    assertEquals(expected, written(next));
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(UTF_8));
  }

  @Test
  void plainAfterTlsThenReady() {
    assertWrites("AUTH PLAIN " + b64("\0joe\0s3cret") + "\r\n", afterTls(DEFAULTS, "250-relay.example", "250 AUTH PLAIN LOGIN"));
    assertInstanceOf(Next.Ready.class, smtp.onLine("235 2.7.0 Authentication successful"));
    assertEquals("PLAIN", smtp.authenticatedWith());
  }

  @Test
  void loginAnswersBothChallenges() {
    assertWrites("AUTH LOGIN\r\n", afterTls(DEFAULTS, "250-relay.example", "250 AUTH=LOGIN"));
    assertWrites(b64("joe") + "\r\n", smtp.onLine("334 VXNlcm5hbWU6"));
    assertWrites(b64("s3cret") + "\r\n", smtp.onLine("334 UGFzc3dvcmQ6"));
    assertInstanceOf(Next.Ready.class, smtp.onLine("235 2.7.0 Authentication successful"));
    assertEquals("LOGIN", smtp.authenticatedWith());
  }

  @Test
  void refusedAuthEndsTheSessionWithTheServersReply() {
    afterTls(DEFAULTS, "250-relay.example", "250 AUTH PLAIN");
    var failed = assertInstanceOf(Next.AuthFailed.class, smtp.onLine("535 5.7.8 Error: authentication failed: authentication failure"));
    assertEquals(new Next.AuthFailed("PLAIN", Reply.of(535, "5.7.8", "Error: authentication failed: authentication failure"), true), failed);
    assertNull(smtp.authenticatedWith());
  }

  @Test
  void noPasswordInPlaintextUnderNoplaintext() {
    var failed = assertInstanceOf(Next.AuthFailed.class,
        greetAndEhlo(TlsLevel.NONE, DEFAULTS, "250-relay.example", "250 AUTH PLAIN LOGIN"));
    assertFalse(failed.serverSaid());
    assertEquals("4.7.0", failed.reason().enhanced());
    assertEquals("no mechanism available", failed.reason().lines().getFirst());
  }

  @Test
  void plaintextPasswordWhenTheOptionsAllowIt() {
    var open = new SaslLogin("joe", "s3cret", Set.of("LOGIN"), Set.of());
    assertWrites("AUTH LOGIN\r\n", greetAndEhlo(TlsLevel.NONE, open, "250-relay.example", "250 AUTH PLAIN LOGIN"));
  }

  @Test
  void aServerWithoutAuthGetsTheMailWithoutIt() {
    assertInstanceOf(Next.Ready.class, greetAndEhlo(TlsLevel.NONE, DEFAULTS, "250-relay.example", "250 PIPELINING"));
    assertNull(smtp.authenticatedWith());
  }

  @Test
  void noMechanismInCommonEndsTheSession() {
    var failed = assertInstanceOf(Next.AuthFailed.class, afterTls(DEFAULTS, "250-relay.example", "250 AUTH CRAM-MD5 GSSAPI"));
    assertFalse(failed.serverSaid());
  }

  @Test
  void aThirdLoginChallengeIsAProtocolError() {
    afterTls(DEFAULTS, "250-relay.example", "250 AUTH LOGIN");
    smtp.onLine("334 VXNlcm5hbWU6");
    smtp.onLine("334 UGFzc3dvcmQ6");
    var failed = assertInstanceOf(Next.SessionFailed.class, smtp.onLine("334 again"));
    assertTrue(failed.reason().oneLine().contains("unexpected AUTH challenge"), failed.toString());
  }

  @Test
  void theLoginDoesNotPrintThePassword() {
    assertFalse(DEFAULTS.toString().contains("s3cret"));
  }
}

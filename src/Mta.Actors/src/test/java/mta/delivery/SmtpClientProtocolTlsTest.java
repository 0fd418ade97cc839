package mta.delivery;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mta.delivery.SmtpClientProtocol.Next;
import mta.delivery.SmtpClientProtocol.TlsLevel;
import org.junit.jupiter.api.Test;

/** STARTTLS on the client side, under smtp_tls_security_level may and encrypt. */
class SmtpClientProtocolTlsTest {

  private SmtpClientProtocol smtp;

  private Next greetAndEhlo(TlsLevel level, String... ehlo) {
    smtp = new SmtpClientProtocol("client.example", level);
    smtp.onConnected();
    assertWrites("EHLO client.example\r\n", smtp.onLine("220 mx.example.com ESMTP"));
    for (int i = 0; i < ehlo.length - 1; i++) smtp.onLine(ehlo[i]);
    return smtp.onLine(ehlo[ehlo.length - 1]);
  }

  private static void assertWrites(String expected, Next next) {
    assertEquals(expected, new String(assertInstanceOf(Next.Write.class, next).bytes(), ISO_8859_1));
  }

  @Test
  void startsTlsWhenOfferedAndSaysEhloAgain() {
    assertWrites("STARTTLS\r\n", greetAndEhlo(TlsLevel.MAY, "250-mx.example.com", "250-STARTTLS", "250 PIPELINING"));
    assertInstanceOf(Next.StartTls.class, smtp.onLine("220 2.0.0 Ready to start TLS"));
    assertWrites("EHLO client.example\r\n", smtp.onTlsEstablished());
    assertTrue(smtp.tlsActive());
    var ready = assertInstanceOf(Next.Ready.class, smtp.onLine("250 mx.example.com"));
    assertFalse(ready.capabilities().pipelining(), "capabilities from the second EHLO only");
  }

  @Test
  void mayCarriesOnInPlaintext() {
    assertInstanceOf(Next.Ready.class, greetAndEhlo(TlsLevel.MAY, "250 mx.example.com"));
    assertWrites("STARTTLS\r\n", greetAndEhlo(TlsLevel.MAY, "250-mx.example.com", "250 STARTTLS"));
    assertInstanceOf(Next.Ready.class, smtp.onLine("454 4.7.0 TLS not available"));
    assertFalse(smtp.tlsActive());
    assertInstanceOf(Next.Ready.class, greetAndEhlo(TlsLevel.NONE, "250-mx.example.com", "250 STARTTLS"));
  }

  @Test
  void encryptDefersWithoutTls() {
    var failed = assertInstanceOf(Next.SessionFailed.class, greetAndEhlo(TlsLevel.ENCRYPT, "250 mx.example.com"));
    assertEquals("450 4.7.4 TLS is required, but was not offered", failed.reason().oneLine());
    assertWrites("STARTTLS\r\n", greetAndEhlo(TlsLevel.ENCRYPT, "250-mx.example.com", "250 STARTTLS"));
    failed = assertInstanceOf(Next.SessionFailed.class, smtp.onLine("454 4.7.0 TLS not available"));
    assertEquals(SmtpClientProtocol.Stage.STARTTLS, failed.stage());
  }
}

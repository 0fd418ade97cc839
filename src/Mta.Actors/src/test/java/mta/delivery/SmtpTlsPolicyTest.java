package mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import mta.config.ConfigError;
import mta.delivery.SmtpClientProtocol.TlsLevel;
import mta.delivery.SmtpTlsPolicy.Policy;
import org.junit.jupiter.api.Test;

/** smtp_tls_policy_maps: keys, policy syntax, refused features, certificate name matching. */
class SmtpTlsPolicyTest {

  @Test
  void keysAsPostfixLooksThemUp() {
    assertEquals(List.of("[relay.example]:587"), SmtpTlsPolicy.keys("[relay.example]:587", false));
    assertEquals(List.of("mail.example.com", ".example.com", ".com"), SmtpTlsPolicy.keys("Mail.Example.com:2525", false));
    assertEquals(List.of("mail.example.com", "example.com", "com"), SmtpTlsPolicy.keys("mail.example.com", true));
  }

  @Test
  void policies() {
    assertEquals(new Policy(TlsLevel.MAY, List.of(), List.of("TLSv1.2", "TLSv1.3")), SmtpTlsPolicy.parse("may"));
    assertEquals(new Policy(TlsLevel.VERIFY, List.of("hostname", ".example.net"), List.of("TLSv1.3")),
        SmtpTlsPolicy.parse("verify match=hostname:.example.net protocols=!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.2 ciphers=high"));
    assertEquals(List.of("TLSv1.3"), SmtpTlsPolicy.protocols(">=TLSv1.3"));
    assertEquals(List.of("TLSv1.2"), SmtpTlsPolicy.protocols("TLSv1.2"));
    assertEquals(List.of("TLSv1.2", "TLSv1.3"), SmtpTlsPolicy.protocols("!SSLv2, !SSLv3"));
  }

  @Test
  void unsupportedOrWrongPoliciesAreRefusedNotIgnored() {
    for (var bad : List.of("dane", "fingerprint", "sometimes", "encrypt exclude=aNULL", "may ciphers=export",
        "encrypt protocols=TLSv1.1", "encrypt protocols=TLSv9", "may match=nexthop", "secure tafile=/x", "encrypt junk")) {
      assertThrows(IllegalArgumentException.class, () -> SmtpTlsPolicy.parse(bad), bad);
    }
  }

  @Test
  void certificateNames() {
    assertTrue(SmtpTlsPolicy.nameMatches("mx.example.com", "MX.example.com"));
    assertTrue(SmtpTlsPolicy.nameMatches("*.example.com", "mx.example.com"));
    assertFalse(SmtpTlsPolicy.nameMatches("*.example.com", "a.mx.example.com"));
    assertTrue(SmtpTlsPolicy.nameMatches("a.mx.example.com", ".example.com"));
    assertFalse(SmtpTlsPolicy.nameMatches("example.com", ".example.com"));
    assertFalse(SmtpTlsPolicy.nameMatches("evil.example", "mx.example.com"));
  }

  private static SmtpTlsPolicy policy(String hocon) {
    return SmtpTlsPolicy.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @Test
  void tableEntriesOverrideTheDefaultAndNameTheExpectedCertificateNames() {
    var tls = policy("""
        mta.smtp_tls_policy_maps = [ "inline:{ {example.com = secure}, {.example.net = verify}, {[relay.example]:587 = encrypt}, {bad.example = maybe} }" ]
        """);
    var secure = tls.session("example.com", "mx1.example.com");
    assertEquals(TlsLevel.SECURE, secure.policy().level());
    assertEquals(List.of("example.com", ".example.com"), secure.names());
    var verify = tls.session("mail.example.net:2525", "mx.mail.example.net");
    assertEquals(TlsLevel.VERIFY, verify.policy().level());
    assertEquals(List.of("mx.mail.example.net"), verify.names());
    assertEquals(TlsLevel.ENCRYPT, tls.session("[relay.example]:587", "relay.example").policy().level());
    var fallback = tls.session("other.example", "mx.other.example");
    assertEquals(TlsLevel.MAY, fallback.policy().level());
    assertEquals(List.of(), fallback.names());
    assertNull(policy("mta.smtp_tls_security_level = none").session("x.example", "mx.x.example").context());
    var bad = assertThrows(IllegalArgumentException.class, () -> tls.session("bad.example", "mx.bad.example"));
    assertTrue(bad.getMessage().contains("smtp_tls_policy_maps entry for bad.example: unknown level 'maybe'"), bad.getMessage());
  }

  @Test
  void aBadDefaultOrCaFileStopsTheNode() {
    var level = assertThrows(ConfigError.class, () -> policy("mta.smtp_tls_security_level = dane"));
    assertTrue(level.getMessage().contains("mta.smtp_tls_security_level: level dane is not supported"), level.getMessage());
    var ca = assertThrows(ConfigError.class, () -> policy("mta.smtp_tls_CAfile = /nonexistent/ca.pem"));
    assertTrue(ca.getMessage().contains("cannot read /nonexistent/ca.pem"), ca.getMessage());
  }
}

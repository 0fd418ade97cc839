package mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import mta.mail.Reply;
import mta.maps.Maps;
import org.junit.jupiter.api.Test;

/** smtp_sasl_* settings: security options, password lookup keys, soft bounce. */
class SmtpSaslTest {

  @Test
  void securityOptions() {
    assertEquals(Set.of(), SmtpSasl.mechanisms(List.of("noplaintext", "noanonymous")));
    assertEquals(Set.of("PLAIN", "LOGIN"), SmtpSasl.mechanisms(List.of("noanonymous")));
    assertEquals(Set.of("PLAIN", "LOGIN"), SmtpSasl.mechanisms(List.of()));
    var e = assertThrows(IllegalArgumentException.class, () -> SmtpSasl.mechanisms(List.of("nosuchthing")));
    assertTrue(e.getMessage().contains("nosuchthing"), e.getMessage());
  }

  @Test
  void lookupKeysAsPostfix() {
    assertEquals(List.of("[relay.example]:587", "relay.example"), SmtpSasl.keys("[relay.example]:587", "relay.example"));
    assertEquals(List.of("mx1.example.com", "example.com"), SmtpSasl.keys("example.com:2525", "MX1.example.com"));
  }

  @Test
  void findsTheSmarthostEntryAndRefusesAMalformedOne() {
    var maps = Maps.open("smtp_sasl_password_maps",
        List.of("inline:{ [relay.example]:587=joe:pa:ss, mx.other.example=nocolon }"));
    var sasl = new SmtpSasl(true, maps, Set.of(), Set.of("PLAIN"), true);
    var login = sasl.login("[relay.example]:587", "relay.example");
    assertEquals("joe", login.username());
    assertEquals("pa:ss", login.password());
    assertEquals(null, sasl.login("[elsewhere.example]:25", "elsewhere.example"));
    assertThrows(IllegalArgumentException.class, () -> sasl.login("other.example", "mx.other.example"));
    assertEquals(null, new SmtpSasl(false, maps, Set.of(), Set.of(), true).login("[relay.example]:587", "relay.example"));
  }

  @Test
  void softBounceMakesA535ADeferral() {
    var refused = Reply.of(535, "5.7.8", "Error: authentication failed");
    assertEquals("4.7.8", new SmtpSasl(true, Maps.NONE, Set.of(), Set.of(), true).dsn(refused));
    assertEquals("5.7.8", new SmtpSasl(true, Maps.NONE, Set.of(), Set.of(), false).dsn(refused));
    assertEquals("4.7.0", new SmtpSasl(true, Maps.NONE, Set.of(), Set.of(), true).dsn(Reply.plain(535, "no")));
  }
}

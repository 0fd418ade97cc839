package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import mta.config.ConfigError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * No open relay, with the whole restriction engine as a node builds it from its settings and
 * the default smtpd_relay_restrictions (permit_mynetworks, permit_sasl_authenticated,
 * reject_unauth_destination): the classic relay tricks are all refused with 5.7.1.
 */
class RelayChecksTest {

  private static final String SETTINGS = """
      mta.mynetworks = [ "127.0.0.0/8", "[::1]/128", "10.1.2.3", "[2001:db8::]/32" ]
      mta.mydestination = [ "ours.example", "LocalHost.", "[192.0.2.25]" ]
      mta.relay_domains = [ "relay.example", ".dot.example" ]
      """;
  private static final SmtpChecks CHECKS = Policy.checks(SETTINGS);
  private static final ClientInfo STRANGER = Policy.client("198.51.100.7", "unknown");

  private static String check(SmtpChecks checks, ClientInfo client, String path) {
    return Policy.rcpt(checks, client, "sender@elsewhere.example", path);
  }

  @ParameterizedTest(name = "{0} from a stranger: {1}")
  @CsvSource(delimiter = '|', textBlock = """
      <user@ours.example>                   | ok
      <User@OURS.EXAMPLE>                   | ok
      <user@ours.example.>                  | ok
      <user@localhost>                      | ok
      <postmaster>                          | ok
      <"quoted name"@ours.example>          | ok
      <user%ours.example@ours.example>      | ok
      <user%relay.example@ours.example>     | ok
      <user@other.example>                  | <user@other.example>
      <USER@OTHER.EXAMPLE.>                 | <USER@other.example>
      <user@sub.ours.example>               | <user@sub.ours.example>
      <user@ours.example.other.example>     | <user@ours.example.other.example>
      <user@xours.example>                  | <user@xours.example>
      <user@relay.example>                  | ok
      <user@MX.Relay.Example.>              | ok
      <user@notrelay.example>               | <user@notrelay.example>
      <user@dot.example>                    | <user@dot.example>
      <user@a.dot.example>                  | ok
      <user%other.example@ours.example>     | <user%other.example@ours.example>
      <user%other.example@relay.example>    | <user%other.example@relay.example>
      <user%other.example%ours.example@ours.example> | <user%other.example%ours.example@ours.example>
      <other.example!user@ours.example>     | <other.example!user@ours.example>
      <other.example!user@relay.example>    | <other.example!user@relay.example>
      <ours.example!other.example!user@ours.example> | <ours.example!other.example!user@ours.example>
      <"user@other.example"@ours.example>   | <"user@other.example"@ours.example>
      <"user@other.example"@relay.example>  | <"user@other.example"@relay.example>
      <"user%other.example"@ours.example>   | <"user%other.example"@ours.example>
      <"other.example!user"@ours.example>   | <"other.example!user"@ours.example>
      <user@other.example@ours.example>     | <user@other.example@ours.example>
      <user@other.example@relay.example>    | <user@other.example@relay.example>
      <@ours.example:user@other.example>    | <user@other.example>
      <@other.example:user@ours.example>    | ok
      <@ours.example,@relay.example:u@x.example> | <u@x.example>
      <user@[198.51.100.1]>                 | <user@[198.51.100.1]>
      <user@[127.0.0.1]>                    | <user@[127.0.0.1]>
      <user@[192.0.2.25]>                   | ok
      user@other.example                    | <user@other.example>
      """)
  void strangerMayOnlySendToUs(String path, String expected) {
    var reply = check(CHECKS, STRANGER, path);
    assertEquals(expected.equals("ok") ? "ok" : "554 5.7.1 " + expected + ": Relay access denied", reply, path);
  }

  @ParameterizedTest
  @CsvSource({"127.0.0.1", "127.255.0.9", "::1", "10.1.2.3", "2001:db8::25", "2001:db8:ffff::1"})
  void mynetworksMayRelayAnywhere(String address) {
    var client = Policy.client(address, "localhost");
    assertEquals("ok", check(CHECKS, client, "<user@other.example>"));
    assertEquals("ok", check(CHECKS, client, "<user%elsewhere@relay.example>"));
  }

  @ParameterizedTest
  @CsvSource({"10.1.2.4", "128.0.0.1", "::2", "2001:db9::1", "::ffff:198.51.100.7"})
  void outsideMynetworksIsAStranger(String address) {
    assertTrue(check(CHECKS, Policy.client(address, "unknown"), "<user@other.example>").startsWith("554 5.7.1"));
  }

  @Test
  void emptyMynetworksTrustsNobody() {
    var checks = Policy.checks("mta.mynetworks = []\nmta.mydestination = [ ours.example ]");
    var localhost = Policy.client("127.0.0.1", "localhost");
    assertEquals("554 5.7.1 <user@other.example>: Relay access denied", check(checks, localhost, "<user@other.example>"));
    assertEquals("ok", check(checks, localhost, "<user@ours.example>"));
  }

  @Test
  void nothingOfOursMeansNoRelayAtAll() {
    var checks = Policy.checks("mta.mynetworks = []\nmta.mydestination = []\nmta.relay_domains = []");
    assertEquals("554 5.7.1 <user@ours.example>: Relay access denied", check(checks, STRANGER, "<user@ours.example>"));
    assertEquals("ok", check(checks, STRANGER, "<postmaster>"));
  }

  @Test
  void relayDomainsCoverSubdomainsButMydestinationDoesNot() {
    assertEquals("ok", check(CHECKS, STRANGER, "<a@deep.mx.relay.example>"));
    assertEquals("554 5.7.1 <a@mx.ours.example>: Relay access denied", check(CHECKS, STRANGER, "<a@mx.ours.example>"));
  }

  @Test
  void recipientRestrictionsCannotOpenTheRelay() {
    // permit in smtpd_recipient_restrictions does not undo the relay restrictions' reject.
    var checks = Policy.checks(SETTINGS + "mta.smtpd_recipient_restrictions = [ permit ]");
    assertEquals("554 5.7.1 <user@other.example>: Relay access denied", check(checks, STRANGER, "<user@other.example>"));
  }

  @Test
  void deferUnauthDestinationIsTemporary() {
    var checks = Policy.checks(SETTINGS + "mta.smtpd_relay_restrictions = [ permit_mynetworks, defer_unauth_destination ]");
    assertEquals("454 4.7.1 <user@other.example>: Relay access denied", check(checks, STRANGER, "<user@other.example>"));
  }

  @Test
  void aConfigurationWithoutARelayRefusalDoesNotStart() {
    for (var lists : List.of(
        "mta.smtpd_relay_restrictions = []",
        "mta.smtpd_relay_restrictions = [ permit_mynetworks ]\nmta.smtpd_recipient_restrictions = [ permit, reject_unauth_destination ]",
        "mta.smtpd_relay_restrictions = [ lenient ]\nmta.smtpd_restriction_classes { lenient = [ permit_mynetworks ] }")) {
      var e = assertThrows(ConfigError.class, () -> Policy.checks(SETTINGS + lists), lists);
      assertTrue(e.getMessage().contains("specify at least one working instance of: reject_unauth_destination"), e.getMessage());
    }
    // A refusal in the recipient restrictions, or inside a class, is enough.
    Policy.checks(SETTINGS + "mta.smtpd_relay_restrictions = []\nmta.smtpd_recipient_restrictions = [ permit_mynetworks, reject_unauth_destination ]");
    Policy.checks(SETTINGS + "mta.smtpd_relay_restrictions = [ strict ]\nmta.smtpd_restriction_classes { strict = [ permit_mynetworks, reject ] }");
  }

  @Test
  void badNetworksAreConfigurationErrors() {
    var e = assertThrows(ConfigError.class, () -> Policy.checks("mta.mynetworks = [ \"mail.example.com\" ]"));
    assertTrue(e.getMessage().contains("mta.mynetworks"), e.getMessage());
    assertThrows(ConfigError.class, () -> Policy.checks("mta.mynetworks = [ \"10.1.2.3/8\" ]"));
  }
}

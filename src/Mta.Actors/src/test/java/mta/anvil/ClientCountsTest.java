package mta.anvil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.util.List;
import mta.config.ConfigError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Anvil's counting: simultaneous connections, rates per interval, when an entity may go. */
class ClientCountsTest {
  private static final long MINUTE = 60_000;

  @Test
  void countsOpenConnectionsUntilTheyEnd() {
    var counts = new ClientCounts(MINUTE);
    assertEquals(new Anvil.Connected(1, 1), counts.connect(0));
    assertEquals(new Anvil.Connected(2, 2), counts.connect(10));
    counts.disconnect();
    assertEquals(new Anvil.Connected(2, 3), counts.connect(20));
    counts.disconnect();
    counts.disconnect();
    counts.disconnect(); // one too many: never below zero
    assertEquals(new Anvil.Connected(1, 4), counts.connect(30));
  }

  @Test
  void ratesRestartWhenTheIntervalRunsOut() {
    var counts = new ClientCounts(MINUTE);
    assertEquals(new Anvil.MailCounted(1, 0), counts.mail(0));
    counts.rcpt(1);
    counts.rcpt(2);
    assertEquals(new Anvil.MailCounted(2, 2), counts.mail(MINUTE - 1));
    assertEquals(1, counts.auth(MINUTE - 1));
    assertEquals(2, counts.auth(MINUTE - 1));
    // A new interval starts with the first event after the old one ran out.
    assertEquals(new Anvil.MailCounted(1, 0), counts.mail(MINUTE));
    assertEquals(1, counts.auth(MINUTE + 5));
    assertEquals(new Anvil.Connected(1, 1), counts.connect(MINUTE + 6));
  }

  @Test
  void forgettableOnlyWithoutConnectionsAndAfterTheInterval() {
    var counts = new ClientCounts(MINUTE);
    assertTrue(counts.forgettable(0), "nothing counted yet");
    counts.connect(0);
    assertFalse(counts.forgettable(10 * MINUTE), "a connection is still open");
    counts.disconnect();
    assertTrue(counts.forgettable(10 * MINUTE));
    counts.auth(10 * MINUTE);
    assertFalse(counts.forgettable(10 * MINUTE + 1), "its AUTH rate still counts");
    assertTrue(counts.forgettable(11 * MINUTE));
  }

  @Test
  void limitsReadPostfixNamesAndExpandMynetworks() throws Exception {
    var limits = ClientLimits.from(config("mta.smtpd_client_auth_rate_limit = 3"), List.of("192.0.2.0/24"));
    assertEquals(50, limits.connectionCount());
    assertEquals(3, limits.authRate());
    assertEquals(60, limits.timeUnit().toSeconds());
    assertTrue(limits.exempt(InetAddress.getByName("192.0.2.7")));
    assertFalse(limits.exempt(InetAddress.getByName("198.51.100.7")));
    assertTrue(limits.countsConnections() && !limits.countsMail() && limits.any());
    var none = ClientLimits.from(config("mta.smtpd_client_connection_count_limit = 0"), List.of());
    assertFalse(none.any(), "all limits off: anvil is never asked");
  }

  @Test
  void badLimitsNameTheKey() {
    assertRefused("mta.smtpd_client_message_rate_limit", () -> ClientLimits.from(config("mta.smtpd_client_message_rate_limit = -1"), List.of()));
    assertRefused("mta.smtpd_client_recipient_rate_limit", () -> ClientLimits.from(config("mta.smtpd_client_recipient_rate_limit = lots"), List.of()));
    assertRefused("mta.smtpd_client_event_limit_exceptions",
        () -> ClientLimits.from(config("mta.smtpd_client_event_limit_exceptions = [ \"10.0.0.1/8\" ]"), List.of()));
  }

  private static void assertRefused(String key, Executable load) {
    var error = org.junit.jupiter.api.Assertions.assertThrows(ConfigError.class, load);
    assertTrue(error.getMessage().contains(key), error.getMessage());
  }

  private static com.typesafe.config.Config config(String text) {
    return ConfigFactory.parseString(text).withFallback(ConfigFactory.parseResources("reference.conf")).resolve();
  }
}

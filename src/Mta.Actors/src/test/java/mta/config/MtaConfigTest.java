package mta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MtaConfigTest {
  @TempDir Path dir;

  private Path write(String hocon) throws IOException {
    var file = dir.resolve("node.conf");
    Files.writeString(file, hocon);
    return file;
  }

  @Test
  void defaultsArePostfixs() {
    var c = MtaConfig.load(Optional.empty());
    assertEquals(10_240_000, c.messageSizeLimit());
    assertEquals(1000, c.smtpdRecipientLimit());
    assertEquals(new HostPort("127.0.0.1", 2525), c.listenSmtp());
    assertEquals(List.of("127.0.0.0/8", "[::1]/128"), c.mynetworks());
    assertEquals(Duration.ofSeconds(300), c.queue().minimalBackoffTime());
    assertEquals(Duration.ofSeconds(4000), c.queue().maximalBackoffTime());
    assertEquals(Duration.ofDays(5), c.queue().maximalQueueLifetime());
    assertEquals(new MtaConfig.DestinationLimits(5, 20, 50, Duration.ZERO), c.queue().defaults());
    assertEquals(c.queue().defaults(), c.queue().limitsFor("smtp"), "no override: the defaults");
    assertEquals(Duration.ZERO, c.queue().delayWarningTime(), "delay_warning_time = 0h: no warnings");
    assertEquals(MtaConfig.Persistence.H2, c.persistence());
    assertEquals(List.of(c.myhostname(), "localhost"), c.mydestination(), "$myhostname expands");
  }

  @Test
  void theFileIsLayeredOverTheDefaults() throws IOException {
    var c = MtaConfig.load(Optional.of(write("""
        mta { myhostname = "mx.example", message_size_limit = 1000, listen.smtp = "[::1]:25", persistence = postgres }
        """)));
    assertEquals("mx.example", c.myhostname());
    assertEquals(List.of("mx.example", "localhost"), c.mydestination());
    assertEquals(1000, c.messageSizeLimit());
    assertEquals(new HostPort("::1", 25), c.listenSmtp());
    assertEquals(MtaConfig.Persistence.POSTGRES, c.persistence());
    assertEquals("org.postgresql.Driver", c.config().getString("pekko-persistence-jdbc.shared-databases.mta.db.driver"));
  }

  /** One journal write in flight whatever the journal, so that batches grow with the load; a node may say. */
  @Test
  void oneJournalWriteInFlightUnlessTheNodeSays() throws IOException {
    assertEquals(1, MtaConfig.load(Optional.empty()).config().getInt("jdbc-journal.parallelism"));
    assertEquals(1, MtaConfig.load(Optional.of(write("mta.persistence = postgres"))).config().getInt("jdbc-journal.parallelism"));
    assertEquals(1, MtaConfig.load(Optional.of(write("mta.persistence = sqlserver"))).config().getInt("jdbc-journal.parallelism"));
    assertEquals(2, MtaConfig.load(Optional.of(write("mta.journal_write_parallelism = 2"))).config().getInt("jdbc-journal.parallelism"));
  }

  /**
   * The journal's and snapshot store's actors run on the default pool whatever the journal: the
   * plugin's own reference.conf misplaces the setting, which would leave each a pinned thread.
   */
  @Test
  void theJournalActorsRunOnTheDefaultPool() throws IOException {
    for (var persistence : List.of("h2", "postgres", "sqlserver")) {
      var config = MtaConfig.load(Optional.of(write("mta.persistence = " + persistence))).config();
      assertEquals("pekko.actor.default-dispatcher", config.getString("jdbc-journal.plugin-dispatcher"), persistence);
      assertEquals("pekko.actor.default-dispatcher", config.getString("jdbc-snapshot-store.plugin-dispatcher"), persistence);
    }
  }

  /** The scheduler wakes every 33 ms, not Pekko's 10 (each wake costs CPU, busy or idle); a node's file may say otherwise. */
  @Test
  void theSchedulerTicksEvery33ms() throws IOException {
    assertEquals(Duration.ofMillis(33), MtaConfig.load(Optional.empty()).config().getDuration("pekko.scheduler.tick-duration"));
    assertEquals(Duration.ofMillis(10),
        MtaConfig.load(Optional.of(write("pekko.scheduler.tick-duration = 10ms"))).config().getDuration("pekko.scheduler.tick-duration"));
  }

  /** H2's page cache goes into its URL in KB: 128 MB unless the node says; nonsense names the key. */
  @Test
  void theH2PageCacheIsSetInItsUrl() throws IOException {
    var url = "pekko-persistence-jdbc.shared-databases.mta.db.url";
    assertTrue(MtaConfig.load(Optional.empty()).config().getString(url).endsWith(";CACHE_SIZE=131072"));
    assertTrue(MtaConfig.load(Optional.of(write("mta.journal_h2_cache_size = 32M"))).config().getString(url)
        .endsWith(";CACHE_SIZE=32768"));
    for (var bad : List.of("0", "1000", "lots")) {
      var e = assertThrows(ConfigError.class,
          () -> MtaConfig.load(Optional.of(write("mta.journal_h2_cache_size = " + bad + "\n"))), bad);
      assertTrue(e.getMessage().contains("journal_h2_cache_size"), e.getMessage());
    }
  }

  @Test
  void perTransportLimitsOverrideTheDefaultsOneByOne() throws IOException {
    var c = MtaConfig.load(Optional.of(write("""
        mta {
          initial_destination_concurrency = 2
          default_destination_rate_delay = 1s
          delay_warning_time = 4h
          smtp_destination_concurrency_limit = 10
          relay_destination_recipient_limit = 5
          relay_destination_rate_delay = 0s
          local_initial_destination_concurrency = 1
          my-pipe_destination_rate_delay = 250ms
        }
        """)));
    var q = c.queue();
    assertEquals(Duration.ofHours(4), q.delayWarningTime());
    assertEquals(new MtaConfig.DestinationLimits(2, 20, 50, Duration.ofSeconds(1)), q.defaults());
    assertEquals(new MtaConfig.DestinationLimits(2, 10, 50, Duration.ofSeconds(1)), q.limitsFor("smtp"));
    assertEquals(new MtaConfig.DestinationLimits(2, 20, 5, Duration.ZERO), q.limitsFor("relay"));
    // local keeps Postfix's own defaults (2 at once, 1 recipient per delivery) under what is set.
    assertEquals(new MtaConfig.DestinationLimits(1, 2, 1, Duration.ofSeconds(1)), q.limitsFor("local"));
    assertEquals(Duration.ofMillis(250), q.limitsFor("my-pipe").rateDelay());
    assertEquals(q.defaults(), q.limitsFor("virtual"));
  }

  @Test
  void badSchedulingValuesNameTheKey() throws IOException {
    for (var bad : List.of("smtp_destination_concurrency_limit = 0", "relay_destination_recipient_limit = -1",
        "smtp_destination_rate_delay = -1s", "delay_warning_time = -1h", "smtp_initial_destination_concurrency = many")) {
      var key = bad.substring(0, bad.indexOf(' '));
      var e = assertThrows(ConfigError.class, () -> MtaConfig.load(Optional.of(write("mta." + bad + "\n"))), bad);
      assertTrue(e.getMessage().contains(key), e.getMessage());
    }
  }

  @Test
  void aWrongTypeNamesTheKeyAndTheFile() throws IOException {
    var file = write("mta.message_size_limit = lots\n");
    var e = assertThrows(ConfigError.class, () -> MtaConfig.load(Optional.of(file)));
    assertTrue(e.getMessage().contains("message_size_limit"), e.getMessage());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void aBadValueNamesTheKeyAndTheFileAndLine() throws IOException {
    var file = write("mta {\n  listen.smtp = \"nowhere\"\n}\n");
    var e = assertThrows(ConfigError.class, () -> MtaConfig.load(Optional.of(file)));
    assertTrue(e.getMessage().contains("mta.listen.smtp") && e.getMessage().contains("node.conf: 2"), e.getMessage());
    var persistence = write("mta.persistence = oracle\n");
    var e2 = assertThrows(ConfigError.class, () -> MtaConfig.load(Optional.of(persistence)));
    assertTrue(e2.getMessage().contains("mta.persistence") && e2.getMessage().contains("h2, postgres or sqlserver"), e2.getMessage());
    var negative = write("mta.smtpd_recipient_limit = 0\n");
    var e3 = assertThrows(ConfigError.class, () -> MtaConfig.load(Optional.of(negative)));
    assertTrue(e3.getMessage().contains("mta.smtpd_recipient_limit: must be positive"), e3.getMessage());
  }

  @Test
  void aSyntaxErrorNamesTheFile() throws IOException {
    var file = write("mta { myhostname = \n");
    var e = assertThrows(ConfigError.class, () -> MtaConfig.load(Optional.of(file)));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void aMissingFileIsAnError() {
    var e = assertThrows(ConfigError.class, () -> MtaConfig.load(Optional.of(dir.resolve("absent.conf"))));
    assertTrue(e.getMessage().contains("absent.conf"), e.getMessage());
  }

  @Test
  void hostPortForms() {
    assertEquals(new HostPort("127.0.0.1", 2526), HostPort.parse("[127.0.0.1]:2526"));
    assertEquals(new HostPort("mx.example", 25), HostPort.parse("mx.example:25"));
    assertEquals(new HostPort("::1", 25), HostPort.parse("[::1]:25"));
    assertEquals("[::1]:25", new HostPort("::1", 25).toString());
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("host"));
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("host:99999"));
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("[::1:25"));
  }
}

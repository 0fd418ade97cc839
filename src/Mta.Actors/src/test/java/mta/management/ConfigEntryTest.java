package mta.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import mta.config.MtaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigEntryTest {
  @TempDir Path dir;

  @Test
  void eachSettingSaysWhereItCameFrom() throws IOException {
    var file = dir.resolve("node.conf");
    Files.writeString(file, """
        mta {
          relayhost = "[192.0.2.1]:25"
          mynetworks = [ "10.0.0.0/8", "127.0.0.0/8" ]
          postgres.password = "secret"
        }
        """);
    var entries = ConfigEntry.of(MtaConfig.load(Optional.of(file)).config());
    var relayhost = entries.stream().filter(e -> e.name().equals("relayhost")).findFirst().orElseThrow();
    assertEquals(new ConfigEntry("relayhost", "[192.0.2.1]:25", file + ":2", false), relayhost);
    var networks = entries.stream().filter(e -> e.name().equals("mynetworks")).findFirst().orElseThrow();
    assertEquals("10.0.0.0/8, 127.0.0.0/8", networks.value(), "lists as postconf writes them");
    var limit = entries.stream().filter(e -> e.name().equals("message_size_limit")).findFirst().orElseThrow();
    assertTrue(limit.isDefault());
    assertTrue(limit.origin().startsWith("reference.conf:"), limit.origin());
    var password = entries.stream().filter(e -> e.name().equals("postgres.password")).findFirst().orElseThrow();
    assertEquals(ConfigEntry.HIDDEN, password.value());
    assertEquals(3, entries.stream().filter(e -> !e.isDefault()).count(), "only what the file sets is not a default");
    assertFalse(entries.stream().anyMatch(e -> e.name().startsWith("pekko")), "mta settings only");
  }
}

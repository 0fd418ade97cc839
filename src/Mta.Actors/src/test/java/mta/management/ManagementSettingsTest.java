package mta.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import mta.config.ConfigError;
import mta.config.HostPort;
import mta.config.MtaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mta.management as MtaConfig reads it: never exposed without a token. */
class ManagementSettingsTest {
  @TempDir Path dir;

  private MtaConfig load(String hocon) throws IOException {
    var file = dir.resolve("node.conf");
    Files.writeString(file, hocon);
    return MtaConfig.load(Optional.of(file));
  }

  @Test
  void theDefaultIsLoopbackWithoutAToken() {
    var m = MtaConfig.load(Optional.empty()).management();
    assertEquals(new HostPort("127.0.0.1", 8558), m.listen());
    assertTrue(m.loopback());
    assertEquals(Optional.empty(), m.token());
    assertEquals(16, m.parallelism());
    assertEquals(Duration.ofSeconds(60), m.queueSampleInterval());
  }

  @Test
  void anAddressOffLoopbackWithoutATokenStopsTheNode() {
    var e = assertThrows(ConfigError.class, () -> load("mta.management.listen = \"0.0.0.0:8558\"\n"));
    assertTrue(e.getMessage().contains("mta.management.listen") && e.getMessage().contains("node.conf"), e.getMessage());
  }

  @Test
  void theTokenFileWinsOverTheToken() throws IOException {
    Files.writeString(dir.resolve("token"), "from-file\n");
    var m = load("mta.management { listen = \"0.0.0.0:8558\", token = inline, token_file = \"" + dir.resolve("token") + "\" }\n")
        .management();
    assertEquals(Optional.of("from-file"), m.token());
    assertEquals(false, m.loopback());
  }

  @Test
  void anUnreadableTokenFileIsAConfigurationError() {
    var e = assertThrows(ConfigError.class, () -> load("mta.management.token_file = \"" + dir.resolve("missing") + "\"\n"));
    assertTrue(e.getMessage().contains("token_file"), e.getMessage());
  }
}

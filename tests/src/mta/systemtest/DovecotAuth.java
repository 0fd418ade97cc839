package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Dovecot as an authentication server only (no mail protocols), for Postfix's
 * {@code smtpd_sasl_type = dovecot}: users and passwords in a passwd-file, PLAIN and LOGIN,
 * the auth socket in a scratch directory (mode 0666, so Postfix's smtpd reaches it). Run in
 * the foreground ({@code dovecot -F}); its log is copied into the test directory on close.
 */
public final class DovecotAuth implements AutoCloseable {
  private final Path base;
  private final Path testDir;
  private final Process process;

  private DovecotAuth(Path base, Path testDir, Process process) {
    this.base = base;
    this.testDir = testDir;
    this.process = process;
  }

  /** @param users user name to plaintext password */
  public static DovecotAuth start(Path testDir, Map<String, String> users) {
    try {
      Path base = PostfixServer.scratchDirectory("dovecot-");
      StringBuilder passwd = new StringBuilder();
      users.forEach((u, p) -> passwd.append(u).append(":{PLAIN}").append(p).append('\n'));
      Files.writeString(base.resolve("passwd"), passwd);
      Files.writeString(base.resolve("dovecot.conf"), """
          base_dir = %1$s/run
          state_dir = %1$s/state
          protocols =
          log_path = %1$s/dovecot.log
          auth_mechanisms = plain login
          auth_failure_delay = 0
          ssl = no
          passdb {
            driver = passwd-file
            args = scheme=PLAIN username_format=%%u %1$s/passwd
          }
          userdb {
            driver = static
            args = uid=nobody gid=nogroup home=/nonexistent
          }
          service auth {
            unix_listener auth-client {
              path = %1$s/auth-client
              mode = 0666
            }
          }
          service anvil {
            chroot =
          }
          """.formatted(base));
      Process p = Exec.daemon(List.of("dovecot", "-F", "-c", base.resolve("dovecot.conf").toString()), base.resolve("dovecot.out"));
      var dovecot = new DovecotAuth(base, testDir, p);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (!Files.exists(dovecot.socket())) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          dovecot.close();
          throw new AssertionError("dovecot did not start:\n" + Files.readString(base.resolve("dovecot.out"), StandardCharsets.ISO_8859_1));
        }
        Ports.sleep(50);
      }
      return dovecot;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path socket() {
    return base.resolve("auth-client");
  }

  @Override
  public void close() {
    Exec.stop(process, Duration.ofSeconds(10));
    PostfixServer.removeScratch(base, "dovecot.log", testDir.resolve("dovecot.log"));
  }
}

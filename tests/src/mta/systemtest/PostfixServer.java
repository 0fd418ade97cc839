package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Postfix as a peer: its own main.cf, master.cf, queue and data directories, run as
 * {@code master -d} (in the foreground, no init system) with smtpd on a loopback port. Its
 * own smtp client relays what smtpd accepts to a next hop (an smtp-sink), so a test sees the
 * mail arrive. {@link #tls} gives smtpd a certificate; {@link #saslVia} makes it require AUTH
 * through a {@link DovecotAuth} socket. Its log is {@code maillog} (postlogd), copied into the
 * test directory on close. Postfix's master needs root.
 *
 * <p>The files live in a {@link #scratchDirectory}, which user postfix can always traverse.
 */
public final class PostfixServer implements AutoCloseable {
  private final Path base;
  private final Path testDir;
  private final int port;
  private final Process master;

  private PostfixServer(Path base, Path testDir, int port, Process master) {
    this.base = base;
    this.testDir = testDir;
    this.port = port;
    this.master = master;
  }

  public static Builder builder(Path testDir, String hostname, int relayPort) {
    return new Builder(testDir, hostname, relayPort);
  }

  public static final class Builder {
    private final Path testDir;
    private final Map<String, String> main = new LinkedHashMap<>();

    private Builder(Path testDir, String hostname, int relayPort) {
      this.testDir = testDir;
      main.put("compatibility_level", "3.6");
      main.put("myhostname", hostname);
      main.put("mydomain", hostname);
      main.put("myorigin", hostname);
      main.put("inet_interfaces", "127.0.0.1");
      main.put("inet_protocols", "ipv4");
      main.put("mydestination", "");
      main.put("alias_maps", "");
      main.put("alias_database", "");
      main.put("relayhost", "[127.0.0.1]:" + relayPort);
      main.put("mynetworks", "127.0.0.0/8");
      main.put("smtpd_relay_restrictions", "permit_mynetworks, reject");
    }

    /** Any main.cf parameter. */
    public Builder set(String name, String value) {
      main.put(name, value);
      return this;
    }

    /** smtpd offers STARTTLS with this certificate and key (PEM). */
    public Builder tls(Path cert, Path key) {
      set("smtpd_tls_cert_file", cert.toAbsolutePath().toString());
      set("smtpd_tls_key_file", key.toAbsolutePath().toString());
      return set("smtpd_tls_security_level", "may");
    }

    /** smtpd requires AUTH (offered under TLS only) to relay, checked by Dovecot. */
    public Builder saslVia(DovecotAuth dovecot) {
      set("smtpd_sasl_auth_enable", "yes");
      set("smtpd_sasl_type", "dovecot");
      set("smtpd_sasl_path", dovecot.socket().toString());
      set("smtpd_tls_auth_only", "yes");
      set("mynetworks", "");
      return set("smtpd_relay_restrictions", "permit_sasl_authenticated, reject");
    }

    public PostfixServer start() {
      try {
        Path base = scratchDirectory("postfix-");
        Path data = Files.createDirectories(base.resolve("data"));
        Files.setOwner(data, data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postfix"));
        int port = Ports.free();
        main.put("queue_directory", base.resolve("spool").toString());
        main.put("data_directory", data.toString());
        main.put("maillog_file_prefixes", base.toString());
        main.put("maillog_file", base.resolve("maillog").toString());
        StringBuilder mainCf = new StringBuilder();
        main.forEach((k, v) -> mainCf.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(base.resolve("main.cf"), mainCf);
        Files.writeString(base.resolve("master.cf"), masterCf(port));
        Files.createDirectories(base.resolve("spool"));
        Exec.Result check = Exec.run(List.of("/usr/sbin/postfix", "-c", base.toString(), "check"), Duration.ofSeconds(30));
        if (!Files.isDirectory(base.resolve("spool/private"))) throw new AssertionError("postfix check made no queue:\n" + check);
        Process p = Exec.daemon(List.of("/usr/lib/postfix/sbin/master", "-c", base.toString(), "-d"), base.resolve("master.out"));
        var server = new PostfixServer(base, testDir, port, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!Ports.listening("127.0.0.1", port)) {
          if (!p.isAlive() || System.nanoTime() > deadline) {
            server.close();
            throw new AssertionError("Postfix did not start on 127.0.0.1:" + port + ":\n" + server.maillog()
                + Files.readString(base.resolve("master.out")));
          }
          Ports.sleep(50);
        }
        return server;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** The services a relay needs (Postfix's stock master.cf, trimmed), not chrooted. */
    private static String masterCf(int port) {
      return """
          127.0.0.1:%d inet n - n - - smtpd
          tlsmgr    unix  -  -  n  1000? 1  tlsmgr
          pickup    unix  n  -  n  60    1  pickup
          cleanup   unix  n  -  n  -     0  cleanup
          qmgr      unix  n  -  n  300   1  qmgr
          rewrite   unix  -  -  n  -     -  trivial-rewrite
          bounce    unix  -  -  n  -     0  bounce
          defer     unix  -  -  n  -     0  bounce
          trace     unix  -  -  n  -     0  bounce
          verify    unix  -  -  n  -     1  verify
          flush     unix  n  -  n  1000? 0  flush
          proxymap  unix  -  -  n  -     -  proxymap
          smtp      unix  -  -  n  -     -  smtp
          relay     unix  -  -  n  -     -  smtp
          showq     unix  n  -  n  -     -  showq
          error     unix  -  -  n  -     -  error
          retry     unix  -  -  n  -     -  error
          discard   unix  -  -  n  -     -  discard
          anvil     unix  -  -  n  -     1  anvil
          scache    unix  -  -  n  -     1  scache
          postlog   unix-dgram n -  n  -     1  postlogd
          """.formatted(port);
    }
  }

  public int port() {
    return port;
  }

  /** Postfix's own log so far. */
  public String maillog() {
    try {
      Path log = base.resolve("maillog");
      return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Waits for a maillog line matching {@code regex}. */
  public String awaitLog(String regex, Duration timeout) {
    var pattern = java.util.regex.Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      var m = pattern.matcher(maillog());
      if (m.find()) return m.group();
      Ports.sleep(200);
    }
    throw new AssertionError("no Postfix log line /" + regex + "/ within " + timeout + ":\n" + maillog());
  }

  /** Stops master (it stops its children) and keeps the log with the test's files. */
  @Override
  public void close() {
    Exec.stop(master, Duration.ofSeconds(10));
    removeScratch(base, "maillog", testDir.resolve("postfix-" + port + ".maillog"));
  }

  /**
   * A fresh directory for a daemon that drops privileges (Postfix, Dovecot), under the temp
   * directory, which every user can traverse (the test directory may not be).
   */
  static Path scratchDirectory(String prefix) throws IOException {
    Path root = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "mta-systemtest-postfix"));
    return Files.createTempDirectory(root, prefix, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
  }

  /** Copies the daemon's {@code log} to {@code keep} (for diagnosis) and removes the scratch directory. */
  static void removeScratch(Path scratch, String log, Path keep) {
    try {
      Files.createDirectories(keep.getParent());
      if (Files.exists(scratch.resolve(log))) Files.copy(scratch.resolve(log), keep, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      System.err.println("keeping " + scratch.resolve(log) + ": " + e);
    }
    SystemTestSupport.deleteRecursively(scratch);
  }

  @Override
  public String toString() {
    return "postfix(127.0.0.1:" + port + ")";
  }
}

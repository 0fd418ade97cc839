package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Postfix's /usr/sbin/smtp-sink as a real next hop on a loopback port. Every mail transaction it
 * accepts is dumped to one file in {@link #dumpDir()} (-d), so tests count and read what arrived.
 * Fault options are smtp-sink's own (man smtp-sink): {@code -r RCPT} answers RCPT with 450 4.3.0,
 * {@code -f RCPT} with 500 5.3.0, {@code -Q MAIL} sends 421 and disconnects, {@code -q DATA}
 * drops the connection. As root it must run with {@code -u nobody}, so the dump directory is
 * world-writable.
 */
public final class SmtpSink implements AutoCloseable {
  private static final String BINARY = "/usr/sbin/smtp-sink";

  private final String host;
  private final int port;
  private final Path dumpDir;
  private final Path logFile;
  private final Process process;

  private SmtpSink(String host, int port, Path dumpDir, Path logFile, Process process) {
    this.host = host;
    this.port = port;
    this.dumpDir = dumpDir;
    this.logFile = logFile;
    this.process = process;
  }

  /** Starts a sink on a free port; {@code options} are extra smtp-sink options, e.g. "-r", "RCPT". */
  public static SmtpSink start(Path dir, String... options) {
    return start(dir, Ports.free(), options);
  }

  /** Starts a sink on the given port (e.g. to bring back a next hop that was down). */
  public static SmtpSink start(Path dir, int port, String... options) {
    return start(dir, "127.0.0.1", port, options);
  }

  /**
   * Starts a sink on another loopback address, e.g. 127.0.0.2:25 for an MX host (every
   * 127.0.0.0/8 address works on lo; the node's own address is 127.0.0.1).
   */
  public static SmtpSink start(Path dir, String host, int port, String... options) {
    boolean loopback = host.equals("127.0.0.1");
    String tag = loopback ? "sink-" + port : "sink-" + host + "-" + port;
    try {
      Files.createDirectories(dir);
      Path dumps = dumpDirFor(dir, tag + "-" + System.nanoTime());
      Path log = dir.resolve(tag + ".log");
      List<String> cmd = new ArrayList<>(List.of(BINARY));
      if (Exec.isRoot()) cmd.addAll(List.of("-u", "nobody"));
      cmd.addAll(List.of("-c", "-h", "sink" + port + ".test", "-d", dumps + "/msg."));
      cmd.addAll(Arrays.asList(options));
      cmd.addAll(List.of(host + ":" + port, "128"));
      Process p = Exec.daemon(cmd, log);
      Exec.awaitListening(p, host, port, log);
      return new SmtpSink(host, port, dumps, log, p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A world-writable dump directory under {@code dir}, or under the temp directory when user
   * nobody could not reach {@code dir} (some ancestor without o+x).
   */
  private static Path dumpDirFor(Path dir, String leaf) throws IOException {
    Path base = dir.toAbsolutePath();
    if (Exec.isRoot() && !reachableByOthers(base)) {
      base = Path.of(System.getProperty("java.io.tmpdir"), "mta-systemtest-sinks");
      Files.createDirectories(base);
      Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxrwxrwx"));
    }
    Path d = Files.createDirectories(base.resolve(leaf));
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
    return d;
  }

  private static boolean reachableByOthers(Path p) throws IOException {
    for (Path a = p; a != null; a = a.getParent()) {
      if (!Files.getPosixFilePermissions(a).contains(PosixFilePermission.OTHERS_EXECUTE)) return false;
    }
    return true;
  }

  public int port() {
    return port;
  }

  /** The address it listens on (127.0.0.1 unless started with another). */
  public String host() {
    return host;
  }

  public Path dumpDir() {
    return dumpDir;
  }

  /** The dump files: one per mail transaction that reached DATA. */
  public List<Path> messageFiles() {
    try (Stream<Path> s = Files.list(dumpDir)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Dump files in the directory. smtp-sink creates a transaction's file at RCPT and removes it
   * when the transaction ends without DATA (a rejected RCPT, then QUIT), so while a session is
   * under way this can count a message that never arrives; {@link #countContaining} with
   * something from the message's content cannot.
   */
  public int count() {
    return messageFiles().size();
  }

  /** The text of every dumped message (smtp-sink's X- headers first, then the message). */
  public List<String> messages() {
    List<String> texts = new ArrayList<>();
    for (Path f : messageFiles()) {
      try {
        texts.add(Files.readString(f, StandardCharsets.ISO_8859_1));
      } catch (IOException e) {
        // a file may vanish or be half-written; the caller polls
      }
    }
    return texts;
  }

  /** How many dumped messages contain {@code needle} (e.g. a Message-ID or Subject). */
  public int countContaining(String needle) {
    return (int) messages().stream().filter(m -> m.contains(needle)).count();
  }

  /** Waits until at least {@code n} messages have arrived. */
  public void awaitCount(int n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (count() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("sink " + port + " holds " + count() + " messages, expected " + n
            + " within " + timeout);
      }
      Ports.sleep(200);
    }
  }

  /** Waits until at least {@code n} messages containing {@code needle} have arrived. */
  public void awaitContaining(String needle, int n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (countContaining(needle) < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("sink " + port + ": " + countContaining(needle) + " messages contain '"
            + needle + "', expected " + n + " within " + timeout + " (" + count() + " messages in all)");
      }
      Ports.sleep(200);
    }
  }

  /** smtp-sink's own output (-c counters, errors). */
  public String log() {
    try {
      return Files.readString(logFile, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Stops the sink (SIGTERM, then kill -9) and waits until the port is free again. */
  public void stop() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Exec.untrack(process);
  }

  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "smtp-sink(" + host + ":" + port + ")";
  }
}

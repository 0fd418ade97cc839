package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One real MTA node: `MTA_NO_BUILD=1 bin/mta node --config FILE`, a JVM of its own (bin/mta
 * execs java, so the process we hold is the JVM and {@link #kill()} is a real kill -9).
 * Its stdout and stderr go to {@code DIR/node.log}, appended across restarts, and stay there.
 * A seed-only cluster member ({@link #seedBuilder}: `bin/mta seed`) is one too; it is ready
 * when it listens on its cluster port instead of SMTP.
 */
public final class NodeProcess implements AutoCloseable {
  public static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final String name;
  private final Path dir;
  private final Path configFile;
  private final Path logFile;
  private final int smtpPort;
  /** {@code node} or {@code seed}: the bin/mta command. */
  private final String command;
  /** The port that listens once the process is ready: SMTP for a mail node, the cluster port for a seed. */
  private final int readyPort;
  private final String javaOpts;
  private Process process;
  private int starts;

  private NodeProcess(Builder b, Path configFile) {
    this.name = b.name;
    this.dir = b.dir;
    this.configFile = configFile;
    this.logFile = dir.resolve("node.log");
    this.smtpPort = b.smtpPort;
    this.command = b.command;
    this.readyPort = b.readyPort;
    this.javaOpts = b.javaOpts;
  }

  /** A node named {@code name} whose config, data and log live in {@code dir}. */
  public static Builder builder(String name, Path dir) {
    return new Builder(name, dir);
  }

  /**
   * The seed-only member named "seed" ({@code bin/mta seed}: no SMTP, no entities) in
   * {@code dir}, on cluster port {@code arteryPort}; a small heap is enough for it.
   */
  public static Builder seedBuilder(Path dir, int arteryPort) {
    Builder b = new Builder("seed", dir).set("pekko.remote.artery.canonical.port", arteryPort);
    b.command = "seed";
    b.readyPort = arteryPort;
    b.javaOpts = "-Xms64m -Xmx256m";
    return b;
  }

  public static final class Builder {
    private final String name;
    private final Path dir;
    private final Map<String, String> settings = new LinkedHashMap<>();
    private final List<String> rawLines = new ArrayList<>();
    private final int smtpPort;
    private String command = "node";
    private int readyPort;
    private String javaOpts = System.getenv("MTA_TEST_JAVA_OPTS");

    private Builder(String name, Path dir) {
      this.name = name;
      this.dir = dir;
      smtpPort = Ports.free();
      readyPort = smtpPort;
      set("mta.myhostname", name + ".test");
      set("mta.listen.smtp", "127.0.0.1:" + smtpPort);
      set("mta.data_directory", dir.resolve("data").toAbsolutePath().toString());
      set("pekko.remote.artery.canonical.hostname", "127.0.0.1");
      set("pekko.remote.artery.canonical.port", Ports.free());
      set("mta.management.listen", "127.0.0.1:" + Ports.free());
    }

    /**
     * Sets a HOCON path. Strings are quoted, numbers and booleans written as they are,
     * collections become lists of quoted strings. Durations are given as strings ("2s").
     */
    public Builder set(String path, Object value) {
      settings.put(path, render(value));
      return this;
    }

    /** Appends a line of HOCON as it is. */
    public Builder raw(String hocon) {
      rawLines.add(hocon);
      return this;
    }

    public Builder relayhost(int port) {
      return set("mta.relayhost", "[127.0.0.1]:" + port);
    }

    /** The embedded H2 journal is the default; this switches to PostgreSQL at the given url. */
    public Builder postgres(String jdbcUrl) {
      set("mta.persistence", "postgres");
      set("mta.postgres.url", jdbcUrl);
      set("mta.postgres.user", Postgres.USER);
      return set("mta.postgres.password", "");
    }

    /** Short retry times, so that deferred mail is retried within a test's patience. */
    public Builder fastRetry() {
      set("mta.minimal_backoff_time", "2s");
      set("mta.maximal_backoff_time", "4s");
      return set("mta.queue_run_delay", "2s");
    }

    public NodeProcess build() {
      try {
        Files.createDirectories(dir);
        StringBuilder conf = new StringBuilder("# written by mta.systemtest.NodeProcess for node ")
            .append(name).append('\n');
        settings.forEach((k, v) -> conf.append(k).append(" = ").append(v).append('\n'));
        rawLines.forEach(l -> conf.append(l).append('\n'));
        Path file = dir.resolve("node.conf");
        Files.writeString(file, conf.toString());
        return new NodeProcess(this, file);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static String render(Object v) {
      if (v instanceof Number || v instanceof Boolean) return v.toString();
      if (v instanceof Collection<?> c) {
        return c.stream().map(Builder::render).collect(Collectors.joining(", ", "[", "]"));
      }
      return quote(v.toString());
    }
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> b.append(c);
      }
    }
    return b.append('"').toString();
  }

  public String name() {
    return name;
  }

  public Path dir() {
    return dir;
  }

  public Path configFile() {
    return configFile;
  }

  public Path logFile() {
    return logFile;
  }

  public int smtpPort() {
    return smtpPort;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** The running node's threads, as jcmd's Thread.print lists them (the JVM the tests run on). */
  public String threadDump() {
    var jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    var dump = Exec.run(List.of(jcmd, Long.toString(pid()), "Thread.print"), Duration.ofSeconds(30));
    if (!dump.ok()) throw new AssertionError("no thread dump of " + name + ":\n" + dump);
    return dump.output();
  }

  /** Spawns the node (does not wait for it). */
  public synchronized NodeProcess start() {
    if (isAlive()) throw new IllegalStateException(name + " is already running");
    Path root = root();
    if (Ports.listening(readyPort)) {
      // someone else took the port: readiness would be a lie
      throw new IllegalStateException(name + ": 127.0.0.1:" + readyPort + " is already in use by another process");
    }
    starts++;
    try {
      Files.writeString(logFile, "=== harness: start #" + starts + " of " + name + " at " + Instant.now()
          + " (config " + configFile + ")\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(root.resolve("bin/mta").toString(), command, "--config",
          configFile.toAbsolutePath().toString())
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.environment().put("MTA_NO_BUILD", "1");
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      if (javaOpts != null) pb.environment().put("MTA_JAVA_OPTS", javaOpts);
      process = Exec.track(pb.start());
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until the SMTP listener (a seed: the cluster port) accepts connections; fails early if the JVM exits. */
  public NodeProcess awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + " before it listened on "
            + readyPort + "\n" + tail(60));
      }
      if (Ports.listening(readyPort)) return this;
      Ports.sleep(200);
    }
    throw new AssertionError(name + " did not listen on 127.0.0.1:" + readyPort + " within " + timeout
        + "\n" + tail(60));
  }

  public NodeProcess startAndAwaitReady() {
    return start().awaitReady(READY_TIMEOUT);
  }

  /** kill -9: no shutdown hook, no flush, nothing graceful. */
  public void kill() {
    if (process == null) return;
    process.destroyForcibly();
    waitExit(Duration.ofSeconds(20));
    Exec.untrack(process);
  }

  /** SIGTERM (the JVM runs CoordinatedShutdown), then kill -9 after {@code grace}; the exit code. */
  public int stop(Duration grace) {
    if (process == null) return -1;
    if (process.isAlive()) {
      process.destroy();
      if (!waitExit(grace)) {
        appendNote("did not stop within " + grace + " of SIGTERM: kill -9");
        process.destroyForcibly();
        waitExit(Duration.ofSeconds(20));
      }
    }
    Exec.untrack(process);
    return process.exitValue();
  }

  public int stop() {
    return stop(Duration.ofSeconds(30));
  }

  private boolean waitExit(Duration d) {
    try {
      return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void appendNote(String note) {
    try {
      Files.writeString(logFile, "=== harness: " + note + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException ignored) {
      // diagnostics only
    }
  }

  // ---- the log

  /** The whole log so far (every start of this node). */
  public String log() {
    try {
      return Files.exists(logFile) ? Files.readString(logFile, StandardCharsets.ISO_8859_1) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A position in the log: pass it to {@link #awaitLog(String, Duration, long)} to look only after it. */
  public long logMark() {
    return log().length();
  }

  public String tail(int lines) {
    List<String> all = log().lines().toList();
    return "---- last lines of " + logFile + "\n"
        + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /** Waits for a line matching {@code regex} (Pattern.find) anywhere in the log. */
  public Matcher awaitLog(String regex, Duration timeout) {
    return awaitLog(regex, timeout, 0);
  }

  /** Waits for a match of {@code regex} after position {@code from} of the log; the matcher. */
  public Matcher awaitLog(String regex, Duration timeout, long from) {
    Pattern p = Pattern.compile(regex, Pattern.MULTILINE);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String log = log();
      Matcher m = p.matcher(log);
      if (from <= log.length() && m.find((int) from)) return m;
      if (System.nanoTime() > deadline || !isAlive()) {
        throw new AssertionError(name + ": no log line matching /" + regex + "/ within " + timeout
            + (isAlive() ? "" : " (the node is not running)") + "\n" + tail(80));
      }
      Ports.sleep(200);
    }
  }

  /** Waits until the log holds {@code n} matches of {@code regex}. */
  public void awaitLogCount(String regex, int n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (countLog(regex) < n) {
      if (System.nanoTime() > deadline) throw new AssertionError(name + ": " + countLog(regex) + " of " + n + " lines matching /"
          + regex + "/ within " + timeout + "\n" + tail(30));
      Ports.sleep(100);
    }
  }

  /** How many matches of {@code regex} the log holds. */
  public int countLog(String regex) {
    Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(log());
    int n = 0;
    while (m.find()) n++;
    return n;
  }

  /** Every match of group 1 (or the whole match) of {@code regex} in the log. */
  public List<String> findAll(String regex) {
    Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(log());
    List<String> found = new ArrayList<>();
    while (m.find()) found.add(m.groupCount() >= 1 ? m.group(1) : m.group());
    return found;
  }

  @Override
  public void close() {
    if (isAlive()) stop(Duration.ofSeconds(20));
  }

  @Override
  public String toString() {
    return name + "(smtp 127.0.0.1:" + smtpPort + ", dir " + dir + ")";
  }

  /** The project's root directory: the system property mta.root (tests/pom.xml sets it). */
  public static Path root() {
    String r = System.getProperty("mta.root");
    Path p = r != null ? Path.of(r) : Path.of("").toAbsolutePath();
    while (p != null && !Files.isExecutable(p.resolve("bin/mta"))) p = p.getParent();
    if (p == null) throw new IllegalStateException("cannot find bin/mta (mta.root=" + r + ")");
    return p.toAbsolutePath().normalize();
  }
}

package mta.systemtest;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs external programs with a time bound, and remembers long-running ones so that nothing
 * this JVM started outlives it (a shutdown hook kills what the tests did not stop).
 */
public final class Exec {
  private static final Set<Process> live = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> live.forEach(Exec::killTree), "exec-reaper"));
  }

  private Exec() {}

  /** The outcome of a finished command: exit code (-1 when it timed out) and merged output. */
  public record Result(List<String> command, int exitCode, String output, boolean timedOut) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }

    @Override
    public String toString() {
      return String.join(" ", command) + "\n  exit=" + exitCode + (timedOut ? " (timed out)" : "")
          + "\n" + output.indent(2);
    }
  }

  /** Runs a command to completion (killing it after the timeout), stdout and stderr merged. */
  public static Result run(List<String> command, Duration timeout) {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    live.add(p);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread reader = Thread.ofVirtual().start(() -> copy(p.getInputStream(), out));
    boolean finished;
    try {
      finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!finished) killTree(p);
      reader.join(5_000);
    } catch (InterruptedException e) {
      killTree(p);
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      live.remove(p);
    }
    String text;
    synchronized (out) {
      text = out.toString(StandardCharsets.UTF_8);
    }
    return new Result(List.copyOf(command), finished ? p.exitValue() : -1, text, !finished);
  }

  /**
   * Starts a daemon in the foreground with its output (and, first, its command line) appended
   * to {@code log}, stdin from /dev/null, tracked for the exit-time reaper.
   */
  static Process daemon(List<String> command, Path log) throws IOException {
    Files.writeString(log, String.join(" ", command) + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    return track(new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start());
  }

  /** Waits up to 10 s for {@code daemon} to listen on host:port; else kills it and fails with its log. */
  static void awaitListening(Process daemon, String host, int port, Path log) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Ports.listening(host, port)) {
      if (!daemon.isAlive() || System.nanoTime() > deadline) {
        killTree(daemon);
        throw new AssertionError(daemon.info().command().orElse("daemon") + " did not start on " + host + ":" + port
            + ":\n" + Files.readString(log, StandardCharsets.ISO_8859_1));
      }
      Ports.sleep(50);
    }
  }

  /** Registers a long-running process for the exit-time reaper. */
  static Process track(Process p) {
    live.add(p);
    return p;
  }

  static void untrack(Process p) {
    live.remove(p);
  }

  /** Asks a daemon to stop (SIGTERM), kills its tree after {@code grace}, and stops tracking it. */
  static void stop(Process p, Duration grace) {
    p.destroy();
    try {
      if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) killTree(p);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      killTree(p);
    }
    untrack(p);
  }

  /** kill -9 of the process and every descendant it has. */
  static void killTree(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    byte[] buf = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buf)) > 0) {
        synchronized (out) {
          out.write(buf, 0, n);
        }
      }
    } catch (IOException ignored) {
      // the process went away
    }
  }

  /** True when this JVM runs as root (then smtp-sink must drop privileges with -u nobody). */
  public static boolean isRoot() {
    try {
      return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    } catch (Throwable t) {
      return "root".equals(System.getProperty("user.name"));
    }
  }
}

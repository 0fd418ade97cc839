package mta.maillog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MaillogAppenderTest {
  private final LoggerContext context = new LoggerContext();
  private final Logger smtpd = context.getLogger("smtpd");
  private final Stdout stdout = new Stdout();
  private MaillogAppender appender;

  /** Standard output as the appender sees it: what was written, and in how many system calls. */
  private static final class Stdout extends OutputStream {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final AtomicInteger writes = new AtomicInteger();
    volatile CountDownLatch blocked = new CountDownLatch(0);

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      try {
        blocked.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      writes.incrementAndGet();
      synchronized (this) {
        bytes.write(b, off, len);
      }
    }

    synchronized List<String> lines() {
      String text = bytes.toString(StandardCharsets.UTF_8);
      return text.isEmpty() ? List.of() : List.of(text.split("\n"));
    }
  }

  private MaillogAppender start(int queueSize, long flushMillis) {
    var encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("mta/%logger{0}: %msg%n");
    encoder.start();
    appender = new MaillogAppender(stdout);
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.setQueueSize(queueSize);
    appender.setFlushMillis(flushMillis);
    appender.start();
    return appender;
  }

  private void log(String message) {
    appender.doAppend(new LoggingEvent(Logger.class.getName(), smtpd, Level.INFO, message, null, null));
  }

  @AfterEach
  void stop() {
    if (appender != null) {
      appender.stop();
    }
  }

  @Test
  void everyLineFromManyThreadsGoesOutInTheOrderEachLoggedThemAndInFewWrites() throws Exception {
    start(8192, 50);
    var threads = new ArrayList<Thread>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      threads.add(Thread.ofPlatform().start(() -> {
        for (int i = 0; i < 500; i++) {
          log("T" + thread + "Q" + i + ": to=<a@b>, status=sent");
        }
      }));
    }
    for (var thread : threads) {
      thread.join();
    }
    appender.stop();

    var lines = stdout.lines();
    assertEquals(2000, lines.size());
    for (int t = 0; t < 4; t++) {
      String prefix = "mta/smtpd: T" + t + "Q";
      var mine = lines.stream().filter(l -> l.startsWith(prefix)).toList();
      assertEquals(500, mine.size());
      for (int i = 0; i < 500; i++) {
        assertEquals(prefix + i + ": to=<a@b>, status=sent", mine.get(i));
      }
    }
    assertTrue(stdout.writes.get() < 100, "2000 lines in " + stdout.writes.get() + " writes");
  }

  @Test
  void aQuietNodesLineGoesOutWithinTheFlushInterval() throws Exception {
    start(8192, 50);
    log("4Xk9z: removed");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (stdout.lines().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(List.of("mta/smtpd: 4Xk9z: removed"), stdout.lines());
  }

  @Test
  void aCallerWaitsForAFullQueueAndNoLineIsDropped() throws Exception {
    start(4, 10);
    stdout.blocked = new CountDownLatch(1);
    var logged = new AtomicInteger();
    var caller = Thread.ofPlatform().start(() -> {
      for (int i = 0; i < 50; i++) {
        log("line " + i);
        logged.incrementAndGet();
      }
    });
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (caller.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(Thread.State.WAITING, caller.getState(), "the caller waits while standard output is stuck");
    assertTrue(logged.get() < 50);
    stdout.blocked.countDown();
    caller.join(5000);
    appender.stop();

    var lines = stdout.lines();
    assertEquals(50, lines.size());
    for (int i = 0; i < 50; i++) {
      assertEquals("mta/smtpd: line " + i, lines.get(i));
    }
  }

  @Test
  void onceTheJvmShutsDownWhatQueuedAndEachNewLineGoOutAtOnce() {
    start(8192, 60_000);
    log("queued before the shutdown");
    appender.writeDirectly();
    assertEquals(List.of("mta/smtpd: queued before the shutdown"), stdout.lines());
    log("logged during the shutdown");
    assertEquals(List.of("mta/smtpd: queued before the shutdown", "mta/smtpd: logged during the shutdown"), stdout.lines());
  }
}

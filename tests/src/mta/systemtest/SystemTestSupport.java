package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;

/**
 * Base of the system tests: a directory per test method under tests/target/systemtest/ (kept
 * for diagnosis: node.conf, node.log, sink dumps), and everything started closed afterwards.
 */
public abstract class SystemTestSupport {
  protected static final Duration DELIVERY = Duration.ofSeconds(60);

  protected Path dir;
  private final Deque<AutoCloseable> started = new ArrayDeque<>();

  @BeforeEach
  void prepareDirectory(TestInfo info) throws IOException {
    String method = info.getTestMethod().map(m -> m.getName()).orElse("test");
    dir = NodeProcess.root().resolve("tests/target/systemtest")
        .resolve(getClass().getSimpleName()).resolve(method);
    deleteRecursively(dir);
    Files.createDirectories(dir);
  }

  @AfterEach
  void closeEverything() {
    while (!started.isEmpty()) {
      try {
        started.pop().close();
      } catch (Exception e) {
        System.err.println("closing: " + e);
      }
    }
  }

  /** Closes {@code c} after the test (last started, first closed). */
  protected <T extends AutoCloseable> T closeLater(T c) {
    started.push(c);
    return c;
  }

  /** A node builder whose files live in this test's directory. */
  protected NodeProcess.Builder node(String name) {
    return NodeProcess.builder(name, dir.resolve(name));
  }

  protected NodeProcess startNode(NodeProcess.Builder b) {
    NodeProcess n = closeLater(b.build());
    return n.startAndAwaitReady();
  }

  protected SmtpSink sink(String... options) {
    return closeLater(SmtpSink.start(dir, options));
  }

  protected SmtpSink sinkOn(int port, String... options) {
    return closeLater(SmtpSink.start(dir, port, options));
  }

  /**
   * A Postfix-style delivery log line: "QUEUEID: to=<rcpt>, relay=127.0.0.1[127.0.0.1]:PORT, ...
   * status=STATUS (...)", up to the end of the line. A null queue id or port matches any.
   */
  protected static String deliveryLine(String queueId, String rcpt, Integer port, String status) {
    return (queueId == null ? "[0-9A-Za-z]+" : java.util.regex.Pattern.quote(queueId))
        + ": to=<" + java.util.regex.Pattern.quote(rcpt) + ">, "
        + (port == null ? "" : "relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + port + ",")
        + ".*status=" + status + ".*";
  }

  /** The unfolded values of every header {@code name} in a message (a sink dump, say). */
  protected static java.util.List<String> headers(String message, String name) {
    String head = message.split("\r?\n\r?\n", 2)[0];
    java.util.List<String> found = new java.util.ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("(?im)^" + java.util.regex.Pattern.quote(name) + ":(.*(?:\r?\n[ \t].*)*)").matcher(head);
    while (m.find()) found.add(m.group(1).replaceAll("\r?\n[ \t]+", " ").trim());
    return found;
  }

  /**
   * A node that has just started takes seconds for its first delivery: one message to
   * {@code rcpt}, whose route leads to {@code sink}, before anything is timed.
   */
  protected static void warmUp(NodeProcess node, String rcpt, SmtpSink sink) {
    String id = uniqueId("warm");
    assertTrue(Swaks.to(node.smtpPort(), rcpt).messageId(id).run().accepted(), "warm-up accepted");
    sink.awaitContaining(id, 1, DELIVERY);
  }

  protected static String uniqueId(String tag) {
    return tag + "." + UUID.randomUUID().toString().substring(0, 8) + "@systemtest.test";
  }

  /** Keeps checking that {@code check} stays true for {@code d} (e.g. "nothing arrives"). */
  protected static void holdsFor(Duration d, java.util.function.BooleanSupplier check, String what) {
    long deadline = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < deadline) {
      if (!check.getAsBoolean()) throw new AssertionError(what);
      Ports.sleep(250);
    }
  }

  static void deleteRecursively(Path p) {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> {
        try {
          Files.deleteIfExists(f);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

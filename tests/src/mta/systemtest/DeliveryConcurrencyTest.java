package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * default_destination_concurrency_limit holds: 60 messages for one destination go through a
 * slow smtp-sink (1 s before it answers DATA), and the established connections at the sink
 * (ss, sampled every 20 ms) never exceed the limit, nor do the mail transactions under way at
 * once (from the sink's dump files). The largest counts seen are printed.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DeliveryConcurrencyTest extends SystemTestSupport {
  private static final int LIMIT = 2;
  private static final int MESSAGES = 60;

  @Test
  void neverMoreConnectionsToOneDestinationThanTheLimit() throws Exception {
    SmtpSink slow = sink("-w", "1");
    NodeProcess node = startNode(node("concnode").relayhost(slow.port())
        .set("mta.default_destination_concurrency_limit", LIMIT)
        .set("mta.management.listen", "127.0.0.1:" + Ports.free()));

    ConnectionSampler connections = new ConnectionSampler(slow.port());

    long start = System.nanoTime();
    Exec.Result sent = SmtpSource.run(node.smtpPort(), Duration.ofSeconds(120),
        "-m", String.valueOf(MESSAGES), "-s", "5", "-f", "alice@senders.test", "-t", "bob@limit.test", "-S", "concurrency");
    assertTrue(sent.ok(), sent::toString);
    long submitted = System.nanoTime();
    // The node logs status=sent after the sink's 250 (the sink's dump file exists from MAIL FROM on).
    String sentLine = ": to=<bob@limit\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + slow.port() + ", .*status=sent";
    node.awaitLogCount(sentLine, MESSAGES, Duration.ofSeconds(180));
    long delivered = System.nanoTime();
    Ports.sleep(3_000); // idle cached connections close, nothing more arrives
    connections.close();

    System.out.printf("[DeliveryConcurrencyTest] limit=%d: max established connections at the sink = %d "
            + "(%d samples, histogram connections->samples %s); %d messages submitted in %d ms, all delivered after %d ms%n",
        LIMIT, connections.max(), connections.samples(), connections.histogram(), MESSAGES, TimeUnit.NANOSECONDS.toMillis(submitted - start),
        TimeUnit.NANOSECONDS.toMillis(delivered - start));
    System.out.println("[DeliveryConcurrencyTest] connections (node side) first..last seen, ms: " + connections.lifetimes());
    int transactions = maxOverlappingTransactions(slow);
    System.out.printf("[DeliveryConcurrencyTest] max simultaneous mail transactions at the sink (dump file birth..last write) = %s%n",
        transactions < 0 ? "unknown (no file birth times here)" : transactions);
    assertTrue(connections.samples() > 100, "enough samples: " + connections.samples());
    assertTrue(transactions <= LIMIT, "never more than " + LIMIT + " deliveries at once, saw " + transactions);
    assertTrue(connections.max() >= 1, "the sampler saw the connections at all");
    assertTrue(connections.max() <= LIMIT, "never more than " + LIMIT + " connections to one destination, saw " + connections.max()
        + "\n" + node.tail(30));
    assertEquals(MESSAGES, slow.count(), "each message once");
    assertEquals(MESSAGES, node.countLog(sentLine), () -> node.tail(20));
  }

  /**
   * The most mail transactions the sink had under way at once: smtp-sink creates a dump file
   * at MAIL FROM and last writes it at the final dot, so a file's birth and modification
   * times bound its transaction. -1 when the file system does not report birth times.
   */
  static int maxOverlappingTransactions(SmtpSink sink) throws IOException {
    List<long[]> events = new ArrayList<>();
    boolean births = false;
    for (Path f : sink.messageFiles()) {
      var a = Files.readAttributes(f, BasicFileAttributes.class);
      long born = a.creationTime().toMillis();
      long done = a.lastModifiedTime().toMillis();
      births |= born != done;
      events.add(new long[] {born, 1});
      events.add(new long[] {done, -1});
    }
    if (!births) return -1;
    // At equal times an end comes before a start: back-to-back transactions do not overlap.
    events.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
    int current = 0;
    int max = 0;
    for (long[] e : events) max = Math.max(max, current += (int) e[1]);
    return max;
  }
}

package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * smtp_destination_rate_delay (1s, the per-transport form of destination_rate_delay): 6
 * messages for one destination, submitted at once over 3 sessions, reach the sink one at a
 * time with at least the delay between the end of one mail transaction and the start of the
 * next (smtp-sink's dump files: born at MAIL FROM, last written at the final dot), and never
 * over more than one connection at once (ss, sampled every 20 ms), although the destination
 * concurrency limit is the default 20. The gaps are printed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeliveryRateDelayTest extends SystemTestSupport {
  private static final Duration RATE_DELAY = Duration.ofSeconds(1);
  private static final int MESSAGES = 6;

  @Test
  void deliveriesToOneDestinationAreSpacedByTheRateDelay() throws Exception {
    SmtpSink sink = sink();
    Path transport = dir.resolve("transport");
    Files.writeString(transport, "rate.test    smtp:[127.0.0.1]:%d%n".formatted(sink.port()));
    NodeProcess node = startNode(node("ratenode")
        .set("mta.transport_maps", List.of("texthash:" + transport))
        .set("mta.smtp_destination_rate_delay", RATE_DELAY.toMillis() + "ms")
        .set("mta.management.listen", "127.0.0.1:" + Ports.free()));

    ConnectionSampler connections = new ConnectionSampler(sink.port());
    long start = System.nanoTime();
    Exec.Result sent = SmtpSource.run(node.smtpPort(), Duration.ofSeconds(60),
        "-m", String.valueOf(MESSAGES), "-s", "3", "-f", "alice@senders.test", "-t", "bob@rate.test", "-S", "rate delay");
    assertTrue(sent.ok(), sent::toString);
    String sentLine = ": to=<bob@rate\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + sink.port() + ", .*status=sent";
    node.awaitLogCount(sentLine, MESSAGES, Duration.ofSeconds(60));
    long delivered = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    connections.close();

    // Each transaction at the sink, by start: [born, last written] in µs.
    List<long[]> transactions = new ArrayList<>();
    for (Path f : sink.messageFiles()) {
      var a = Files.readAttributes(f, BasicFileAttributes.class);
      transactions.add(new long[] {a.creationTime().to(TimeUnit.MICROSECONDS), a.lastModifiedTime().to(TimeUnit.MICROSECONDS)});
    }
    transactions.sort(Comparator.comparingLong(t -> t[0]));
    List<Long> gaps = new ArrayList<>();
    for (int i = 1; i < transactions.size(); i++) gaps.add((transactions.get(i)[0] - transactions.get(i - 1)[1]) / 1000);
    System.out.printf("[DeliveryRateDelayTest] rate delay %d ms: gaps between deliveries at the sink %s ms; "
            + "all %d delivered %d ms after submission; max connections at once %d (%d samples, histogram %s), connections %s%n",
        RATE_DELAY.toMillis(), gaps, MESSAGES, delivered, connections.max(), connections.samples(), connections.histogram(),
        connections.lifetimes());

    assertEquals(MESSAGES, sink.count(), "each message once");
    assertTrue(keepsBirthTimes(sink.messageFiles().get(0).getParent()), "the file system reports birth times");
    assertTrue(gaps.stream().allMatch(g -> g >= RATE_DELAY.toMillis()), "no delivery before the delay is over: " + gaps);
    assertTrue(connections.max() == 1, "one connection at a time, saw " + connections.max() + "\n" + node.tail(30));
    assertTrue(delivered >= (MESSAGES - 1) * RATE_DELAY.toMillis(), "paced: " + delivered + " ms");
  }

  /**
   * Whether files in {@code dir} keep their birth time (where they do not, Java reports the
   * last modification as the creation). Asked of a file written again 50 ms after its birth:
   * the sink's own files cannot tell, as a transaction that ends within the kernel's clock
   * tick (4 ms at HZ=250) is born and last written at the same stamp.
   */
  private static boolean keepsBirthTimes(Path dir) throws Exception {
    Path probe = Files.createTempFile(dir, "birth", ".probe");
    try {
      Thread.sleep(50);
      Files.writeString(probe, "later", StandardOpenOption.APPEND);
      var a = Files.readAttributes(probe, BasicFileAttributes.class);
      return !a.creationTime().equals(a.lastModifiedTime());
    } finally {
      Files.delete(probe);
    }
  }
}

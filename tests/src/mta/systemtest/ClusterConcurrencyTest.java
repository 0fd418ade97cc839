package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The destination concurrency limit holds for the whole cluster, not per node: with
 * {@code default_destination_concurrency_limit = 3} and three nodes, the sink never sees more
 * than three connections (idle cached ones included) nor three deliveries at once, although
 * every node's delivery agent takes leases.
 *
 * <p>The sink answers DATA only after a second ({@code smtp-sink -w 1}), so deliveries overlap
 * and a backlog waits in the queue. At the sink, every 20 ms, the test counts
 * <ul>
 *   <li>the established TCP connections on the sink's port (the server side; what
 *   {@code ss -Htn state established '( sport = :PORT )'} lists, read from /proc/net/tcp
 *   without a process per sample), and
 *   <li>the mail transactions in progress: smtp-sink keeps one dump file open per transaction,
 *   from MAIL to the final dot (man smtp-sink, -d), so the dump files open in
 *   /proc/SINKPID/fd are exactly the deliveries under way.
 * </ul>
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ClusterConcurrencyTest extends ClusterTestSupport {
  private static final int LIMIT = 3;
  private static final int MESSAGES = 60;

  @Test
  void theDestinationConcurrencyLimitHoldsForTheWholeCluster() throws Exception {
    SmtpSink sink = sink("-w", "1");
    Cluster cluster = startCluster("mta_it_cluster_concurrency", 3, b -> b.fastRetry().relayhost(sink.port())
        .set("mta.default_destination_concurrency_limit", LIMIT)
        .set("mta.initial_destination_concurrency", LIMIT));
    ClusterLoad.Ledger ledger = closeLater(new ClusterLoad.Ledger(sink));
    warmUp(cluster);
    sink.awaitContaining("warmup-", 3, DELIVERY);

    SinkSampler sampler = closeLater(new SinkSampler(sink));
    ClusterLoad load = closeLater(new ClusterLoad("conc", MESSAGES, 6, 10, 0, 500, cluster::nodes)).start();
    load.await(120, TimeUnit.SECONDS);
    var acked = load.acked();
    report(String.format(Locale.ROOT, "%d messages accepted in %.1f s by node %s", acked.size(), load.seconds(),
        load.ackedByNode()));
    assertEquals(MESSAGES, acked.size(), () -> "every message is accepted: " + load.inSession());

    long waitStart = System.nanoTime();
    List<String> lost = ledger.awaitAll("conc", acked.keySet(), 150, TimeUnit.SECONDS);
    double drain = (System.nanoTime() - waitStart) / 1e9;
    sampler.close();
    var byId = ledger.byMessageId("conc");
    var deliveredBy = deliveredBy(cluster, byId);
    report(String.format(Locale.ROOT, "limit %d: %d samples over %.1f s; most connections established at the sink at once: %d"
            + " (histogram %s); most transactions in progress at once: %d (histogram %s)",
        LIMIT, sampler.samples, sampler.seconds(), sampler.maxConnections, sampler.connectionHistogram,
        sampler.maxTransactions, sampler.transactionHistogram));
    report(String.format(Locale.ROOT, "%d delivered %.1f s after the last 250 (%.2f msg/s with a 1 s DATA reply), lost %d;"
            + " delivered by node %s; duplicates %s", byId.size(), drain, byId.size() / (drain + load.seconds()),
        lost.size(), deliveredBy, ClusterLoad.Duplicates.of(byId).total()));
    if (!sampler.overLimit.isEmpty()) report("samples over the limit (first ones): " + sampler.overLimit);

    assertEquals(List.of(), lost, "every accepted message arrives");
    assertTrue(sampler.maxTransactions >= 2, () -> "deliveries overlapped (else the test shows nothing): "
        + sampler.transactionHistogram);
    assertTrue(sampler.maxTransactions <= LIMIT, () -> "at most " + LIMIT + " deliveries at once at the sink, saw "
        + sampler.maxTransactions + ": " + sampler.overLimit);
    // Idle cached connections count in the queue's window too, so the limit holds for connections.
    assertTrue(sampler.maxConnections <= LIMIT, () -> "at most " + LIMIT + " connections at once at the sink, saw "
        + sampler.maxConnections + ": " + sampler.overLimit);
    long nodesThatDelivered = deliveredBy.values().stream().filter(n -> n > 0).count();
    assertTrue(nodesThatDelivered >= 2, () -> "more than one node delivered: " + deliveredBy);
    report("test time " + secondsSince(testStarted) + " s");
  }

  /** Samples the sink every 20 ms: established connections on its port, dump files it holds open. */
  static final class SinkSampler implements AutoCloseable {
    private final String portHex;
    private final Path fdDir;
    private final String dumpDir;
    private final Thread thread;
    private volatile boolean running = true;
    private final long started = System.nanoTime();
    private long stopped;
    int samples;
    int maxConnections;
    int maxTransactions;
    final Map<Integer, Integer> connectionHistogram = new TreeMap<>();
    final Map<Integer, Integer> transactionHistogram = new TreeMap<>();
    final List<String> overLimit = new ArrayList<>();

    SinkSampler(SmtpSink sink) throws IOException {
      this.portHex = String.format(Locale.ROOT, ":%04X", sink.port());
      this.fdDir = Path.of("/proc", Long.toString(sinkPid(sink.port())), "fd");
      this.dumpDir = sink.dumpDir().toRealPath().toString();
      this.thread = Thread.ofPlatform().daemon().name("sink-sampler").start(this::loop);
    }

    private static long sinkPid(int port) throws IOException {
      try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
        for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
          try {
            String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
            if (cmd.contains("smtp-sink") && cmd.contains("127.0.0.1:" + port + " ")) {
              return Long.parseLong(p.getFileName().toString());
            }
          } catch (IOException e) {
            // a process that went away
          }
        }
      }
      throw new IOException("no smtp-sink process for port " + port);
    }

    private void loop() {
      while (running) {
        long t = System.nanoTime();
        int connections = establishedOnPort();
        int transactions = openDumpFiles();
        synchronized (this) {
          samples++;
          connectionHistogram.merge(connections, 1, Integer::sum);
          transactionHistogram.merge(transactions, 1, Integer::sum);
          maxConnections = Math.max(maxConnections, connections);
          maxTransactions = Math.max(maxTransactions, transactions);
          if ((connections > LIMIT || transactions > LIMIT) && overLimit.size() < 10) {
            overLimit.add(String.format(Locale.ROOT, "t=%.2fs connections=%d transactions=%d", (t - started) / 1e9,
                connections, transactions));
          }
        }
        long sleep = 20 - (System.nanoTime() - t) / 1_000_000;
        if (sleep > 0) Ports.sleep(sleep);
      }
    }

    /** Lines of /proc/net/tcp whose local address is our port and whose state is 01 (ESTABLISHED). */
    private int establishedOnPort() {
      int n = 0;
      try {
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 3 && f[1].endsWith(portHex) && f[3].equals("01")) n++;
        }
      } catch (IOException e) {
        // try again at the next sample
      }
      return n;
    }

    private int openDumpFiles() {
      int n = 0;
      try (Stream<Path> fds = Files.list(fdDir)) {
        for (Path fd : fds.toList()) {
          try {
            if (Files.readSymbolicLink(fd).toString().startsWith(dumpDir)) n++;
          } catch (IOException e) {
            // closed meanwhile
          }
        }
      } catch (IOException e) {
        // the sink went away
      }
      return n;
    }

    double seconds() {
      return ((stopped == 0 ? System.nanoTime() : stopped) - started) / 1e9;
    }

    @Override
    public void close() {
      if (!running) return;
      running = false;
      stopped = System.nanoTime();
      try {
        thread.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

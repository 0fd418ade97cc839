package mta.systemtest;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the established TCP connections to a local port (ss, every 20 ms) from a daemon
 * thread until closed: the largest count, how often each count was seen, and each
 * connection's first and last sighting (ms from the start), keyed by the peer's address.
 */
final class ConnectionSampler implements AutoCloseable {
  private final AtomicBoolean sampling = new AtomicBoolean(true);
  private final AtomicInteger max = new AtomicInteger();
  private final AtomicInteger samples = new AtomicInteger();
  private final TreeMap<Integer, Integer> histogram = new TreeMap<>();
  private final Map<String, long[]> lifetimes = new ConcurrentHashMap<>();
  private final Thread thread;

  ConnectionSampler(int port) {
    long t0 = System.nanoTime();
    List<String> ss = List.of("ss", "-Htn", "state", "established", "( sport = :" + port + " )");
    thread = Thread.ofPlatform().daemon().start(() -> {
      while (sampling.get()) {
        Exec.Result r = Exec.run(ss, Duration.ofSeconds(5));
        List<String> lines = r.output().lines().filter(l -> !l.isBlank()).toList();
        long now = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        for (String l : lines) {
          String[] f = l.trim().split("\\s+");
          lifetimes.computeIfAbsent(f[f.length - 1], k -> new long[] {now, now})[1] = now;
        }
        max.accumulateAndGet(lines.size(), Math::max);
        samples.incrementAndGet();
        synchronized (histogram) {
          histogram.merge(lines.size(), 1, Integer::sum);
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
  }

  int max() {
    return max.get();
  }

  int samples() {
    return samples.get();
  }

  /** Connections at once to samples seen with that many. */
  String histogram() {
    synchronized (histogram) {
      return histogram.toString();
    }
  }

  /** Each connection (peer port) with when it was first..last seen, ms from the start, earliest first. */
  List<String> lifetimes() {
    return lifetimes.entrySet().stream()
        .sorted(Map.Entry.comparingByValue((x, y) -> Long.compare(x[0], y[0])))
        .map(e -> e.getKey().replaceFirst(".*:", ":") + " " + e.getValue()[0] + ".." + e.getValue()[1]).toList();
  }

  @Override
  public void close() throws InterruptedException {
    sampling.set(false);
    thread.join(10_000);
  }
}

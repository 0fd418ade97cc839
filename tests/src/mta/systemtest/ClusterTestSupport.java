package mta.systemtest;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * What the cluster tests share: a three-node cluster plus seed on PostgreSQL
 * ({@link Cluster}), a warm-up that waits until every node can queue mail, and the report
 * lines that go to standard output (the CI log) as "CLUSTER-RESULT ..." lines.
 */
abstract class ClusterTestSupport extends SystemTestSupport {
  protected long testStarted = System.nanoTime();

  protected Cluster startCluster(String schema, int nodes, UnaryOperator<NodeProcess.Builder> customize) {
    testStarted = System.nanoTime();
    long t = System.nanoTime();
    Cluster cluster = closeLater(Cluster.start(dir, schema, nodes, customize));
    report("cluster of seed + " + nodes + " mail nodes formed in " + secondsSince(t) + " s");
    return cluster;
  }

  /**
   * One message through each node until it answers 250 (the first ones may get 451 while
   * sharding and the journal warm up), so that the measurement starts on a working cluster.
   * Their Message-IDs start with "warmup-"; the runs' counts leave them out.
   */
  protected void warmUp(Cluster cluster) {
    long t = System.nanoTime();
    for (NodeProcess node : cluster.nodes()) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      String last = "";
      boolean ok = false;
      while (!ok && System.nanoTime() < deadline) {
        try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
          c.ehlo("warmup.test");
          SmtpClient.Reply r = c.send("sender@client.test", List.of("warmup@remote.example"),
              SmtpClient.message("sender@client.test", "warmup@remote.example", "warmup-" + node.name() + "@cluster.test",
                  "warm-up via " + node.name(), 200));
          ok = r.code() == 250;
          last = r.text();
        } catch (RuntimeException e) {
          last = e.toString();
        }
        if (!ok) Ports.sleep(500);
      }
      if (!ok) throw new AssertionError(node.name() + " did not queue a warm-up message within 60 s: " + last + "\n" + node.tail(60));
    }
    report("warm-up: every node queued a message, " + secondsSince(t) + " s");
  }

  protected String secondsSince(long nanos) {
    return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - nanos) / 1e9);
  }

  protected void report(String line) {
    System.out.println("CLUSTER-RESULT " + getClass().getSimpleName() + ": " + line);
  }

  /** Deliveries by the delivering node (the sink's X-Helo-Args), node names only. */
  protected static Map<String, Integer> deliveredBy(Cluster cluster, Map<String, List<ClusterLoad.Delivery>> byId) {
    Map<String, Integer> m = new TreeMap<>();
    byId.values().forEach(list -> list.forEach(d -> {
      NodeProcess n = cluster.byHostname(d.deliveredBy());
      m.merge(n == null ? d.deliveredBy() : n.name(), 1, Integer::sum);
    }));
    return m;
  }

  /**
   * Why the client sent a message again that was then delivered more than once: the earlier
   * try lost its connection after DATA (the 250 was lost with it), or it got a 4xx although
   * the node queued it after all. Counts by cause, from the delivered copies' "try N" subjects.
   */
  protected static Map<String, Integer> retryCauses(Map<String, List<ClusterLoad.Delivery>> byId,
      Map<String, ClusterLoad.Ack> acked, Map<String, String> unknownOutcome) {
    Map<String, Integer> m = new TreeMap<>();
    byId.forEach((id, copies) -> {
      ClusterLoad.Ack ack = acked.get(id);
      copies.stream().map(ClusterLoad.Delivery::queueId).distinct().forEach(q -> {
        if (ack != null && q.equals(ack.queueId())) return;
        String subject = copies.stream().filter(d -> d.queueId().equals(q)).findFirst().orElseThrow().subject();
        String attempt = id + " " + subject.replaceAll("^.* (try \\d+)$", "$1");
        m.merge(unknownOutcome.containsKey(attempt) ? "connection lost after DATA" : "4xx, but queued", 1, Integer::sum);
      });
    });
    return m;
  }

  /** The "status=sent" lines in each node's log: the node that held the Message entity at the time. */
  protected static Map<String, Integer> sentLines(Cluster cluster) {
    Map<String, Integer> m = new TreeMap<>();
    for (NodeProcess n : cluster.nodes()) m.put(n.name(), n.countLog("status=sent"));
    return m;
  }
}

package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster's ordinary day: a seed and three mail nodes on one PostgreSQL journal, mail
 * sent to all three nodes' SMTP ports at once, one next hop (smtp-sink) behind one relayhost
 * destination. Every message a node answered 250 for arrives; and the delivery work is spread
 * over the nodes, since the destination's queue entity grants a message's lease to the delivery
 * agent of its home, the node that received it: the sink's dump of each message names the
 * delivering node (X-Helo-Args is the node's myhostname) and the receiving one (Received: by).
 */
@Timeout(value = 360, unit = TimeUnit.SECONDS)
class ClusterSpreadTest extends ClusterTestSupport {
  private static final int MESSAGES = 900;
  private static final int CLIENTS = 9;

  @Test
  void mailSentToEveryNodeIsDeliveredOnceAndTheWorkIsSpread() {
    SmtpSink sink = sink();
    Cluster cluster = startCluster("mta_it_cluster_spread", 3, b -> b.fastRetry().relayhost(sink.port()));
    ClusterLoad.Ledger ledger = closeLater(new ClusterLoad.Ledger(sink));
    warmUp(cluster);

    ClusterLoad load = closeLater(new ClusterLoad("spread", MESSAGES, CLIENTS, 20, 0, 1_000, cluster::nodes)).start();
    load.await(180, TimeUnit.SECONDS);
    var acked = load.acked();
    report(String.format(java.util.Locale.ROOT, "%d messages accepted (250) in %.1f s (%.0f/s) over %d sessions, %d tries; by node %s",
        acked.size(), load.seconds(), acked.size() / load.seconds(), load.sessions(), load.attempts(), load.ackedByNode()));
    report("client incidents: refused " + ClusterLoad.summary(load.refused()) + ", in session "
        + ClusterLoad.summary(load.inSession()));
    assertEquals(MESSAGES, acked.size(), () -> "every message is accepted by a healthy cluster; given up: " + load.gaveUp()
        + ", incidents " + load.inSession().stream().limit(10).toList());

    long waitStart = System.nanoTime();
    List<String> lost = ledger.awaitAll("spread", acked.keySet(), 120, TimeUnit.SECONDS);
    var byId = ledger.byMessageId("spread");
    report("all accepted mail at the sink " + secondsSince(waitStart) + " s after the last 250; "
        + (acked.size() - lost.size()) + " of " + acked.size() + " delivered, " + lost.size() + " lost");
    assertEquals(List.of(), lost, () -> lost.size() + " accepted messages never arrived, e.g. "
        + lost.stream().limit(10).map(id -> id + " " + acked.get(id)).toList());

    var duplicates = ClusterLoad.Duplicates.of(byId);
    Map<String, Integer> deliveredBy = deliveredBy(cluster, byId);
    report("duplicates: " + duplicates.redeliveries() + " redelivered (same queue id), " + duplicates.clientRetries()
        + " from client retries " + duplicates.examples());
    report("delivered by node (sink's X-Helo-Args): " + deliveredBy + "; status=sent lines by node (Message entity's node): "
        + sentLines(cluster));
    long atHome = byId.values().stream().flatMap(List::stream).filter(d -> d.deliveredBy().equals(d.acceptedBy())).count();
    long deliveries = byId.values().stream().mapToLong(List::size).sum();
    report("delivered by the node that received it: " + atHome + " of " + deliveries);
    List<Double> latency = new ArrayList<>();
    byId.forEach((id, ds) -> {
      var a = acked.get(id);
      if (a != null) latency.add((ds.get(0).seenNanos() - a.atNanos()) / 1e9);
    });
    report("latency 250 -> sink: " + ClusterLoad.spread(latency));

    assertEquals(0, duplicates.total(), () -> "no duplicates without faults: " + duplicates.examples());
    for (NodeProcess n : cluster.nodes()) {
      int mine = deliveredBy.getOrDefault(n.name(), 0);
      assertTrue(mine >= MESSAGES / 10, () -> n.name() + " delivered only " + mine + " of " + MESSAGES
          + ": the destination's leases should go to every node's agent " + deliveredBy);
    }
    // Round robin over three nodes would give a third; away from home only over another node's idle connection.
    assertTrue(atHome >= deliveries * 8 / 10, () -> "a lease goes to the agent of the message's home first, yet only " + atHome
        + " of " + deliveries + " were delivered by the node that received them");
    report("test time " + secondsSince(testStarted) + " s");
  }
}

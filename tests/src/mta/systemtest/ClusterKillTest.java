package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * kill -9 of one mail node in the middle of the load. Every message that any node answered
 * 250 for is delivered, the ones the dead node accepted and the ones whose Message entity
 * lived there included: the journal is shared, the Split Brain Resolver downs the dead node
 * (stable-after {@value Cluster#STABLE_AFTER} here), its shards start again on the survivors and
 * replay their events, and the queue run wakes them.
 *
 * <p>Clients of the dead node lose their connection: not accepted, so not counted; they go on
 * with the next node, sending the same message again (a 250 that was lost with the connection
 * makes a duplicate of that kind, counted apart). Clients of the other nodes may wait or get
 * 451 while a shard was on the dead node; they keep sending and retry.
 *
 * <p>The victim is the node that holds the destination's queue entity (the worst case: the
 * queue itself moves, and its soft state is rebuilt from the Message entities), or a node
 * that only delivers and holds Message entities (its delivery leases must come back to the
 * queue when its agent is gone).
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
class ClusterKillTest extends ClusterTestSupport {
  private static final int MESSAGES = 600;
  private static final int CLIENTS = 9;
  private static final double RATE = 30;

  @Test
  void killTheNodeThatHoldsTheDestinationQueue() {
    run(true);
  }

  @Test
  void killANodeThatDeliversAndHoldsMessages() {
    run(false);
  }

  private void run(boolean queueHost) {
    String tag = queueHost ? "killq" : "killd";
    // The sink answers DATA after a second and the window is 15: mail waits in the queue, so
    // that some of it is pending on the victim when it dies.
    SmtpSink sink = sink("-w", "1");
    Cluster cluster = startCluster("mta_it_cluster_" + tag, 3, b -> b.fastRetry().relayhost(sink.port())
        .set("mta.default_destination_concurrency_limit", 15));
    ClusterLoad.Ledger ledger = closeLater(new ClusterLoad.Ledger(sink));
    warmUp(cluster);

    var queueRegions = cluster.regionsWithEntities("DestinationQueue");
    NodeProcess host = queueRegions.entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey)
        .findFirst().orElseThrow(() -> new AssertionError("no node holds the destination queue: " + queueRegions));
    NodeProcess victim = queueHost ? host
        : cluster.nodes().stream().filter(n -> n != host).findFirst().orElseThrow();
    report("destination queue on " + host.name() + "; victim " + victim.name());

    ClusterLoad load = closeLater(new ClusterLoad(tag, MESSAGES, CLIENTS, 10, RATE, 1_000, cluster::nodes)).start();
    while (load.ackedCount() < MESSAGES * 35 / 100) {
      if (load.started() >= MESSAGES) break;
      Ports.sleep(50);
    }
    Set<String> victimShards = Set.of();
    try {
      victimShards = cluster.regions("Message").getOrDefault(victim, Set.of());
    } catch (RuntimeException e) {
      report("could not ask where the Message shards are: " + e);
    }
    var ackedBeforeKill = load.acked();
    Set<String> deliveredBeforeKill = ledger.byMessageId(tag).keySet();
    long killed = System.nanoTime();
    victim.kill();
    report(String.format(Locale.ROOT, "kill -9 %s after %d accepted, %d delivered; it held %d Message shards",
        victim.name(), ackedBeforeKill.size(), deliveredBeforeKill.size(), victimShards.size()));
    cluster.awaitRemoved(victim, Duration.ofSeconds(90));
    report("the seed saw " + victim.name() + " removed " + secondsSince(killed) + " s after the kill");

    load.await(240, TimeUnit.SECONDS);
    long loadDone = System.nanoTime();
    var acked = load.acked();
    report(String.format(Locale.ROOT, "%d of %d messages accepted (250) in %.1f s, %d tries in %d sessions; by node %s; given up %d",
        acked.size(), MESSAGES, load.seconds(), load.attempts(), load.sessions(), load.ackedByNode(), load.gaveUp().size()));
    report("client incidents: refused " + ClusterLoad.summary(load.refused()) + "; in session "
        + ClusterLoad.summary(load.inSession()) + "; tries with unknown outcome (connection lost after DATA) "
        + load.unknownOutcome().size());

    List<String> lost = ledger.awaitAll(tag, acked.keySet(), 150, TimeUnit.SECONDS);
    var byId = ledger.byMessageId(tag);
    report("all accepted mail at the sink " + secondsSince(loadDone) + " s after the last 250: "
        + (acked.size() - lost.size()) + " of " + acked.size() + " delivered, " + lost.size() + " lost");

    var duplicates = ClusterLoad.Duplicates.of(byId);
    report("duplicates: " + duplicates.redeliveries() + " redelivered (same queue id), " + duplicates.clientRetries()
        + " from client retries " + retryCauses(byId, acked, load.unknownOutcome()) + " " + duplicates.examples());
    report("delivered by node: " + deliveredBy(cluster, byId) + "; status=sent lines by node " + sentLines(cluster));

    // How long the dead node's share waited: mail accepted before the kill, not yet delivered
    // then, whose Message entity lived on the victim -- against the same kind of mail elsewhere.
    List<Double> victimDelay = new ArrayList<>();
    List<Double> otherDelay = new ArrayList<>();
    for (var a : ackedBeforeKill.values()) {
      if (deliveredBeforeKill.contains(a.id())) continue;
      var ds = byId.get(a.id());
      if (ds == null) continue;
      double s = (ds.get(0).seenNanos() - killed) / 1e9;
      (victimShards.contains(Cluster.shardOf(a.queueId())) ? victimDelay : otherDelay).add(s);
    }
    report("pending at the kill, delivered after it (seconds after the kill): Message entity on " + victim.name() + " "
        + victimDelay.size() + " msgs " + ClusterLoad.spread(victimDelay) + "; elsewhere " + otherDelay.size() + " msgs "
        + ClusterLoad.spread(otherDelay));
    report("longest pause between deliveries after the kill: " + longestGapAfter(byId, killed));
    List<Double> before = new ArrayList<>();
    List<Double> after = new ArrayList<>();
    for (var a : acked.values()) {
      long began = a.atNanos() - a.tookNanos();
      if (began < killed) before.add(a.tookNanos() / 1e9);
      else if (began < killed + Duration.ofSeconds(30).toNanos()) after.add(a.tookNanos() / 1e9);
    }
    report("time from MAIL to 250 at the clients: before the kill " + ClusterLoad.spread(before)
        + "; tries begun in the 30 s after it " + ClusterLoad.spread(after));
    int acceptedByVictim = (int) acked.values().stream().filter(a -> a.node().equals(victim.name())).count();
    int acceptedByVictimDelivered = (int) acked.values().stream()
        .filter(a -> a.node().equals(victim.name()) && byId.containsKey(a.id())).count();
    report("accepted by " + victim.name() + " before it died: " + acceptedByVictim + ", delivered " + acceptedByVictimDelivered);

    assertEquals(List.of(), lost, () -> lost.size() + " accepted messages were lost, e.g. "
        + lost.stream().limit(10).map(id -> id + " " + acked.get(id) + " shard " + Cluster.shardOf(acked.get(id).queueId()))
        .toList());
    assertTrue(acked.size() >= MESSAGES * 9 / 10, () -> "the survivors accept the rest of the load: only "
        + acked.size() + "; " + load.inSession().stream().limit(10).toList());
    assertTrue(duplicates.redeliveries() <= Math.max(5, MESSAGES / 50),
        () -> "redeliveries stay rare: " + duplicates.redeliveries() + " " + duplicates.examples());
    assertTrue(duplicates.total() <= MESSAGES * 3 / 100, () -> "duplicates stay rare: " + duplicates.total() + " "
        + retryCauses(byId, acked, load.unknownOutcome()) + " " + duplicates.examples());
    report("test time " + secondsSince(testStarted) + " s");
  }

  /** The longest time without a new delivery, from the kill until the last delivery. */
  private static String longestGapAfter(Map<String, List<ClusterLoad.Delivery>> byId, long from) {
    List<Long> times = byId.values().stream().flatMap(List::stream).map(ClusterLoad.Delivery::seenNanos)
        .filter(t -> t >= from).sorted().toList();
    if (times.isEmpty()) return "no delivery after the kill";
    long prev = from;
    long longest = 0;
    long at = from;
    for (long t : times) {
      if (t - prev > longest) {
        longest = t - prev;
        at = prev;
      }
      prev = t;
    }
    return String.format(Locale.ROOT, "%.1f s (from %.1f s after the kill); first delivery after the kill at %.1f s",
        longest / 1e9, (at - from) / 1e9, (times.get(0) - from) / 1e9);
  }
}

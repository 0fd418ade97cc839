package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A graceful leave under load: SIGTERM to the node that holds the destination's queue entity
 * while clients send to all three nodes. CoordinatedShutdown first takes the node's delivery
 * agent out of the receptionist (leases still offered to it go back to the queue) and stops
 * the SMTP listener (new connections to that node are refused: fine, the client goes to the next node), lets
 * the sessions under way finish and the deliveries under way report, hands its shards (Message
 * entities and the queue) to the other nodes, leaves the cluster and exits.
 *
 * <p>No client that was in a session sees an error (any node: no 4xx, no lost connection), no
 * accepted mail is lost or delivered twice, and the node exits by itself.
 *
 * <p>The sink answers DATA after one second ({@code -w 1}) so that deliveries are under way
 * and mail waits in the queue when the node leaves.
 */
@Timeout(value = 360, unit = TimeUnit.SECONDS)
class ClusterLeaveTest extends ClusterTestSupport {
  private static final int MESSAGES = 600;
  private static final int CLIENTS = 9;
  private static final double RATE = 30;

  @Test
  void aNodeLeavesGracefullyUnderLoad() {
    SmtpSink sink = sink("-w", "1");
    Cluster cluster = startCluster("mta_it_cluster_leave", 3, b -> b.fastRetry().relayhost(sink.port())
        .set("mta.default_destination_concurrency_limit", 15));
    ClusterLoad.Ledger ledger = closeLater(new ClusterLoad.Ledger(sink));
    warmUp(cluster);

    var queueRegions = cluster.regionsWithEntities("DestinationQueue");
    NodeProcess leaver = queueRegions.entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey)
        .findFirst().orElseThrow(() -> new AssertionError("no node holds the destination queue: " + queueRegions));
    report("destination queue on " + leaver.name() + ": it leaves");

    // Short sessions (5 messages, then QUIT), as real clients: a draining node waits for them.
    ClusterLoad load = closeLater(new ClusterLoad("leave", MESSAGES, CLIENTS, 5, RATE, 1_000, cluster::nodes)).start();
    while (load.ackedCount() < MESSAGES * 35 / 100 && load.started() < MESSAGES) Ports.sleep(50);
    int ackedAtTerm = load.ackedCount();
    int deliveredAtTerm = ledger.byMessageId("leave").size();
    long mark = leaver.logMark();
    long term = System.nanoTime();
    var exit = CompletableFuture.supplyAsync(() -> leaver.stop(Duration.ofSeconds(120)));
    report("SIGTERM to " + leaver.name() + " after " + ackedAtTerm + " accepted, " + deliveredAtTerm + " delivered");

    int code = exit.join();
    double exitSeconds = (System.nanoTime() - term) / 1e9;
    String log = leaver.log().substring((int) Math.min(mark, leaver.log().length()));
    report(String.format(Locale.ROOT, "%s exited with %d %.1f s after SIGTERM; its log: %s", leaver.name(), code, exitSeconds,
        log.lines().filter(l -> l.contains("stopped accepting") || l.contains("stopped taking") || l.contains("harness")).toList()));
    cluster.awaitRemoved(leaver, Duration.ofSeconds(30));

    load.await(240, TimeUnit.SECONDS);
    long loadDone = System.nanoTime();
    var acked = load.acked();
    report(String.format(Locale.ROOT, "%d of %d messages accepted in %.1f s over %d sessions; by node %s",
        acked.size(), MESSAGES, load.seconds(), load.sessions(), load.ackedByNode()));
    report("client incidents: refused/not greeted " + ClusterLoad.summary(load.refused()) + "; errors in a session "
        + ClusterLoad.summary(load.inSession()));

    List<String> lost = ledger.awaitAll("leave", acked.keySet(), 150, TimeUnit.SECONDS);
    var byId = ledger.byMessageId("leave");
    var duplicates = ClusterLoad.Duplicates.of(byId);
    report("all accepted mail at the sink " + secondsSince(loadDone) + " s after the last 250: "
        + (acked.size() - lost.size()) + " of " + acked.size() + " delivered, " + lost.size() + " lost; duplicates "
        + duplicates.redeliveries() + " redelivered, " + duplicates.clientRetries() + " client retries "
        + retryCauses(byId, acked, load.unknownOutcome()) + " " + duplicates.examples());
    report("delivered by node: " + deliveredBy(cluster, byId) + "; status=sent lines by node " + sentLines(cluster));

    assertTrue(code == 0 || code == 143, () -> leaver.name() + " exits cleanly by itself, not " + code + "\n" + leaver.tail(60));
    assertEquals(List.of(), load.inSession(), "no client in a session sees an error while a node leaves");
    assertTrue(load.refused().stream().allMatch(i -> i.node().equals(leaver.name())),
        () -> "only the leaving node refuses connections: " + load.refused());
    assertEquals(MESSAGES, acked.size(), "every message is accepted (by the node that stays)");
    assertEquals(List.of(), lost, () -> lost.size() + " accepted messages did not arrive within 150 s (lost or stuck): "
        + lost.stream().map(id -> id + " queue id " + acked.get(id).queueId()).toList());
    // No crash here, so nothing needs delivering twice: the leaving agent takes no new leases,
    // finishes its own, and a lease completes only once its results are in the journal.
    assertEquals(0, duplicates.redeliveries(),
        () -> "a graceful leave redelivers nothing: " + duplicates.redeliveries() + " " + duplicates.examples());
    report("test time " + secondsSince(testStarted) + " s");
  }
}

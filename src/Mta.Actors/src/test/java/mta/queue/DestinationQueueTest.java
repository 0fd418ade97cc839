package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import mta.config.MtaConfig;
import mta.delivery.DeliveryAgent;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DestinationQueue entity and the node's queue in a one-node cluster, leasing to a test
 * probe in the place of the delivery agent: the per-transport limits of a route's transport,
 * destination_rate_delay's spacing with one delivery at a time, idle cached connections in
 * the window, and the window shared by two nodes' queues.
 */
class DestinationQueueTest {
  private static final Duration RATE_DELAY = Duration.ofMillis(700);
  private static QueueTestCluster cluster;
  private static MtaConfig config;
  private static ActorRef<NodeQueue.Command> queue;

  @BeforeAll
  static void start(@TempDir Path dir) {
    cluster = new QueueTestCluster("DestinationQueueTest");
    config = QueueTestCluster.config(dir, """
        mta {
          initial_destination_concurrency = 3
          relay_destination_recipient_limit = 2
          relay_initial_destination_concurrency = 1
          slow_destination_rate_delay = %dms
          slow_destination_concurrency_limit = 10
          two_destination_concurrency_limit = 3
        }
        """.formatted(RATE_DELAY.toMillis()));
    queue = cluster.startQueues(config);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static void enqueue(String queueId, String route, List<String> recipients) {
    queue.tell(new NodeQueue.Enqueue(queueId, route, recipients));
  }

  @Test
  void aTransportsOverridesApplyToItsDestinationsOnly() {
    var relay = "relay:[relay.test]:25";
    enqueue("Q1", relay, List.of("a@r.test", "b@r.test", "c@r.test", "d@r.test", "e@r.test"));
    var first = cluster.nextLease(Duration.ofSeconds(10));
    assertEquals(List.of("a@r.test", "b@r.test"), first.recipients(), "relay_destination_recipient_limit = 2");
    cluster.expectNoLease(Duration.ofMillis(500)); // relay_initial_destination_concurrency = 1
    cluster.completed(first, true, 0);
    // A delivery that reached the site grows the window from 1 to 2: the rest goes out at once.
    assertEquals(List.of("c@r.test", "d@r.test"), cluster.nextLease(Duration.ofSeconds(5)).recipients());
    assertEquals(List.of("e@r.test"), cluster.nextLease(Duration.ofSeconds(5)).recipients());

    // smtp has no overrides: the defaults (3 at once here, 50 recipients per delivery).
    var smtp = "smtp:[smtp.test]:25";
    enqueue("Q2", smtp, IntStream.range(0, 60).mapToObj(i -> "r" + i + "@s.test").toList());
    IntStream.range(0, 3).forEach(i -> enqueue("Q3" + i, smtp, List.of("x@s.test")));
    var leases = new ArrayList<NodeQueue.Lease>();
    // The relay queue's leases are still out; the smtp queue grants its own window of 3.
    for (int i = 0; i < 3; i++) leases.add(cluster.nextLease(Duration.ofSeconds(10)));
    cluster.expectNoLease(Duration.ofMillis(500));
    assertEquals(50, leases.get(0).recipients().size(), "default_destination_recipient_limit");
    assertEquals(List.of(10, 1), leases.subList(1, 3).stream().map(l -> l.recipients().size()).toList());
  }

  @Test
  void aRateDelaySpacesDeliveriesOneAtATime() {
    var slow = "slow:[slow.test]:25";
    IntStream.range(0, 4).forEach(i -> enqueue("S" + i, slow, List.of("a@slow.test")));
    var lease = cluster.nextLease(Duration.ofSeconds(10));
    var gaps = new ArrayList<Long>();
    for (int i = 1; i < 4; i++) {
      // One at a time, even though slow_destination_concurrency_limit is 10.
      cluster.expectNoLease(Duration.ofMillis(200));
      long ended = System.nanoTime();
      cluster.completed(lease, true, 0);
      lease = cluster.nextLease(Duration.ofSeconds(5));
      gaps.add(Duration.ofNanos(System.nanoTime() - ended).toMillis());
      assertEquals("S" + i, lease.queueId(), "oldest first");
    }
    System.out.println("[DestinationQueueTest] slow_destination_rate_delay=" + RATE_DELAY.toMillis() + "ms, gaps " + gaps + " ms");
    assertTrue(gaps.stream().allMatch(g -> g >= RATE_DELAY.toMillis()), "each delivery waits out the delay: " + gaps);
    assertTrue(gaps.stream().allMatch(g -> g < RATE_DELAY.toMillis() + 1_000), "and not much longer: " + gaps);
  }

  @Test
  void anIdleConnectionHoldsItsPlaceAndCarriesTheNextLease() {
    var route = "smtp:[idle.test]:25";
    IntStream.range(0, 4).forEach(i -> enqueue("I" + i, route, List.of("a@idle.test")));
    var out = List.of(cluster.nextLease(Duration.ofSeconds(10)), cluster.nextLease(Duration.ofSeconds(5)),
        cluster.nextLease(Duration.ofSeconds(5)));
    assertEquals(List.of("I0", "I1", "I2"), out.stream().map(NodeQueue.Lease::queueId).toList());
    cluster.expectNoLease(Duration.ofMillis(500));
    // One is done and its connection stays open, idle: still three at the site, and the next
    // lease goes over that connection.
    cluster.completed(out.get(0), true, 1);
    assertEquals("I3", cluster.nextLease(Duration.ofSeconds(5)).queueId());
    enqueue("I4", route, List.of("a@idle.test"));
    cluster.expectNoLease(Duration.ofMillis(500));
    // The agent closes it (another completes without keeping its connection): a place is free.
    cluster.completed(out.get(1), true, 0);
    assertEquals("I4", cluster.nextLease(Duration.ofSeconds(5)).queueId());
  }

  /**
   * A second node's queue in the same cluster, with its own agent: both have mail for one
   * destination whose window is 3; together they never have more than 3 deliveries out, and
   * both deliver.
   */
  @Test
  void twoNodesShareOneWindow() {
    var route = "two:[two.test]:25";
    TestProbe<DeliveryAgent.Command> otherAgent = cluster.kit.createTestProbe(DeliveryAgent.Command.class);
    var other = cluster.kit.spawn(NodeQueue.create(config.queue()), "other-node-queue");
    other.tell(new NodeQueue.AgentStarted(otherAgent.ref()));
    for (int i = 0; i < 8; i++) {
      enqueue("A" + i, route, List.of("a@two.test"));
      other.tell(new NodeQueue.Enqueue("B" + i, route, List.of("b@two.test")));
    }
    var outstanding = new ArrayList<NodeQueue.Lease>();
    Map<String, Integer> byNode = new HashMap<>(Map.of("A", 0, "B", 0));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int maxOut = 0;
    while (byNode.get("A") + byNode.get("B") < 16) {
      assertTrue(System.nanoTime() < deadline, "all 16 leased within 30 s: " + byNode);
      boolean got = false;
      for (var agent : List.of(cluster.agent, otherAgent)) {
        var lease = poll(agent, Duration.ofMillis(150));
        if (lease == null) continue;
        got = true;
        outstanding.add(lease);
        byNode.merge(lease.queueId().substring(0, 1), 1, Integer::sum);
        maxOut = Math.max(maxOut, outstanding.size());
        assertTrue(outstanding.size() <= 3, "no more than the window at the site: " + outstanding);
      }
      if (!got && !outstanding.isEmpty()) {
        var done = outstanding.remove(0);
        var node = done.queueId().startsWith("A") ? queue : other;
        node.tell(new NodeQueue.LeaseCompleted(done.id(), route, true, "", 0));
      }
    }
    cluster.kit.stop(other);
    System.out.println("[DestinationQueueTest] two nodes, window 3: most at once " + maxOut + ", leased " + byNode);
    assertEquals(3, maxOut, "the window is used");
  }

  private static NodeQueue.Lease poll(TestProbe<DeliveryAgent.Command> agent, Duration max) {
    try {
      return ((DeliveryAgent.Deliver) agent.receiveMessage(max)).lease();
    } catch (AssertionError quiet) {
      return null;
    }
  }
}

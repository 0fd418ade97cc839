package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import mta.config.MtaConfig;
import mta.delivery.DeliveryAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DestinationQueue entity in a one-node cluster, leasing to a test probe in the place of
 * the delivery agent: the per-transport limits of its route's transport,
 * destination_rate_delay's spacing with one delivery at a time, and idle cached connections
 * counted in the window.
 */
class DestinationQueueTest {
  private static final Duration RATE_DELAY = Duration.ofMillis(700);
  private static QueueTestCluster cluster;
  private static MtaConfig.QueueSettings settings;

  @BeforeAll
  static void start(@TempDir Path dir) {
    cluster = new QueueTestCluster("DestinationQueueTest");
    settings = QueueTestCluster.config(dir, """
        mta {
          initial_destination_concurrency = 3
          relay_destination_recipient_limit = 2
          relay_initial_destination_concurrency = 1
          slow_destination_rate_delay = %dms
          slow_destination_concurrency_limit = 10
        }
        """.formatted(RATE_DELAY.toMillis())).queue();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void aTransportsOverridesApplyToItsDestinationsOnly() {
    var relay = cluster.kit.spawn(DestinationQueue.create("relay:[relay.test]:25", settings));
    relay.tell(new DestinationQueue.Enqueue("Q1", List.of("a@r.test", "b@r.test", "c@r.test", "d@r.test", "e@r.test")));
    var first = cluster.nextLease(Duration.ofSeconds(10));
    assertEquals(List.of("a@r.test", "b@r.test"), first.recipients(), "relay_destination_recipient_limit = 2");
    cluster.expectNoLease(Duration.ofMillis(300)); // relay_initial_destination_concurrency = 1
    relay.tell(new DestinationQueue.LeaseCompleted(first.id(), cluster.agent.ref(), true, "", 0));
    // A delivery that reached the site grows the window from 1 to 2: the rest goes out at once.
    assertEquals(List.of("c@r.test", "d@r.test"), cluster.nextLease(Duration.ofSeconds(5)).recipients());
    assertEquals(List.of("e@r.test"), cluster.nextLease(Duration.ofSeconds(5)).recipients());

    // smtp has no overrides: the defaults (3 at once here, 50 recipients per delivery).
    var smtp = cluster.kit.spawn(DestinationQueue.create("smtp:[smtp.test]:25", settings));
    var many = IntStream.range(0, 60).mapToObj(i -> "r" + i + "@s.test").toList();
    smtp.tell(new DestinationQueue.Enqueue("Q2", many));
    IntStream.range(0, 3).forEach(i -> smtp.tell(new DestinationQueue.Enqueue("Q3" + i, List.of("x@s.test"))));
    var leases = new ArrayList<DestinationQueue.Lease>();
    // The relay queue's leases are still out; the smtp queue grants its own window of 3.
    for (int i = 0; i < 3; i++) leases.add(cluster.nextLease(Duration.ofSeconds(10)));
    cluster.expectNoLease(Duration.ofMillis(300));
    assertEquals(50, leases.get(0).recipients().size(), "default_destination_recipient_limit");
    assertEquals(List.of(10, 1), leases.subList(1, 3).stream().map(l -> l.recipients().size()).toList());
  }

  @Test
  void aRateDelaySpacesDeliveriesOneAtATime() {
    var queue = cluster.kit.spawn(DestinationQueue.create("slow:[slow.test]:25", settings));
    IntStream.range(0, 4).forEach(i -> queue.tell(new DestinationQueue.Enqueue("S" + i, List.of("a@slow.test"))));
    var lease = cluster.nextLease(Duration.ofSeconds(10));
    var gaps = new ArrayList<Long>();
    for (int i = 1; i < 4; i++) {
      // One at a time, even though slow_destination_concurrency_limit is 10.
      cluster.expectNoLease(Duration.ofMillis(200));
      long ended = System.nanoTime();
      queue.tell(new DestinationQueue.LeaseCompleted(lease.id(), cluster.agent.ref(), true, "", 0));
      lease = cluster.nextLease(Duration.ofSeconds(5));
      gaps.add(Duration.ofNanos(System.nanoTime() - ended).toMillis());
      assertEquals("S" + i, lease.queueId(), "oldest first");
    }
    System.out.println("[DestinationQueueTest] slow_destination_rate_delay=" + RATE_DELAY.toMillis() + "ms, gaps " + gaps + " ms");
    assertTrue(gaps.stream().allMatch(g -> g >= RATE_DELAY.toMillis()), "each delivery waits out the delay: " + gaps);
    assertTrue(gaps.stream().allMatch(g -> g < RATE_DELAY.toMillis() + 1_000), "and not much longer: " + gaps);
  }

  @Test
  void idleConnectionsCountInTheWindowLikeLeases() {
    var queue = cluster.kit.spawn(DestinationQueue.create("smtp:[idle.test]:25", settings));
    // Another node's agent, one this queue does not lease to (not in the receptionist: as if
    // it were leaving), keeps two idle connections to the site: one place is left of three.
    var leavingAgent = cluster.kit.createTestProbe(DeliveryAgent.Command.class);
    queue.tell(new DestinationQueue.ConnectionsIdle(leavingAgent.ref(), 2));
    IntStream.range(0, 3).forEach(i -> queue.tell(new DestinationQueue.Enqueue("I" + i, List.of("a@idle.test"))));
    var first = cluster.nextLease(Duration.ofSeconds(10));
    cluster.expectNoLease(Duration.ofMillis(300));
    // Its connections close: their places go to new deliveries.
    queue.tell(new DestinationQueue.ConnectionsIdle(leavingAgent.ref(), 0));
    var more = List.of(cluster.nextLease(Duration.ofSeconds(5)), cluster.nextLease(Duration.ofSeconds(5)));
    assertEquals(List.of("I0", "I1", "I2"), List.of(first.queueId(), more.get(0).queueId(), more.get(1).queueId()));
    // Our agent finishes one and keeps its connection idle: still three at the site, so the
    // next lease goes to that connection, and no fourth connection is opened.
    queue.tell(new DestinationQueue.Enqueue("I3", List.of("a@idle.test")));
    queue.tell(new DestinationQueue.Enqueue("I4", List.of("a@idle.test")));
    cluster.expectNoLease(Duration.ofMillis(300));
    queue.tell(new DestinationQueue.LeaseCompleted(first.id(), cluster.agent.ref(), true, "", 1));
    assertEquals("I3", cluster.nextLease(Duration.ofSeconds(5)).queueId());
    cluster.expectNoLease(Duration.ofMillis(300));
  }
}

package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import mta.config.MtaConfig;
import org.junit.jupiter.api.Test;

/** One node's part of a destination queue, without actors. */
class DestinationShareTest {
  private static final String ROUTE = "smtp:[share.test]:25";
  private final AtomicLong ids = new AtomicLong(1);

  private static DestinationShare share(int recipientLimit, Duration rateDelay) {
    return new DestinationShare(ROUTE, new MtaConfig.DestinationLimits(5, 20, recipientLimit, rateDelay));
  }

  private static NodeQueue.Share grant(long id, int size) {
    return new NodeQueue.Share(ROUTE, id, size, 0, "", 0);
  }

  /** A share of {@code size} (grant 7) with one recipient of each of {@code messages} messages ready. */
  private static DestinationShare withMail(int size, int messages) {
    var share = share(50, Duration.ZERO);
    share.granted(grant(7, size), 0);
    IntStream.range(0, messages).forEach(i -> share.enqueue("Q" + i, List.of("a@x"), 0));
    return share;
  }

  @Test
  void leasesGoOldestFirstWithinTheShareAndTheRecipientLimit() {
    var share = share(2, Duration.ZERO);
    share.enqueue("Q1", List.of("a@x", "b@x", "c@x"), 0);
    share.enqueue("Q2", List.of("d@x"), 0);
    assertEquals(List.of(), share.grantable(0, ids::getAndIncrement), "no share, no lease");
    assertTrue(share.needsShare(0));
    share.granted(grant(7, 2), 0);
    var leases = share.grantable(0, ids::getAndIncrement);
    assertEquals(List.of(List.of("a@x", "b@x"), List.of("c@x")), leases.stream().map(NodeQueue.Lease::recipients).toList());
    // The entity hands out again what is out on a lease: it is not queued twice.
    share.enqueue("Q1", List.of("a@x", "b@x", "c@x"), 0);
    assertEquals(List.of(), share.grantable(0, ids::getAndIncrement), "the share is full");
    share.completed(leases.get(0).id(), true, "", 0, 10);
    assertEquals(List.of("Q2"), share.grantable(10, ids::getAndIncrement).stream().map(NodeQueue.Lease::queueId).toList());
  }

  @Test
  void idleConnectionsCarryLeasesButNeverMoreThanTheShare() {
    var share = withMail(2, 5);
    var first = share.grantable(0, ids::getAndIncrement);
    assertEquals(2, first.size());
    share.completed(first.get(0).id(), true, "", 1, 1);
    // The agent says two are idle while the lease just granted has not taken its connection yet.
    assertEquals(1, share.grantable(1, ids::getAndIncrement).size());
    share.completed(first.get(1).id(), true, "", 2, 2);
    assertEquals(1, share.grantable(2, ids::getAndIncrement).size(), "two leases out, whatever the idle count");
    assertEquals(List.of(), share.grantable(2, ids::getAndIncrement));
  }

  @Test
  void aSmallerShareSaysHowManyIdleConnectionsMayStay() {
    var share = withMail(3, 1);
    var lease = share.grantable(0, ids::getAndIncrement).get(0);
    share.granted(grant(8, 4), 0);
    assertEquals(-1, share.idleToKeep(), "a larger share: nothing to close");
    share.connectionsIdle(2);
    share.granted(grant(9, 2), 0);
    assertEquals(1, share.idleToKeep(), "one lease out, one place left of two");
    share.completed(lease.id(), true, "", 3, 1);
    share.granted(grant(10, 1), 1);
    assertEquals(1, share.idleToKeep());
    share.granted(grant(11, 0), 1);
    assertEquals(0, share.idleToKeep());
  }

  @Test
  void theReportCarriesTheOutcomesOnce() {
    var share = withMail(5, 4);
    var leases = share.grantable(0, ids::getAndIncrement);
    share.completed(leases.get(0).id(), false, "timed out", 0, 1);
    share.completed(leases.get(1).id(), true, "", 1, 2);
    share.completed(leases.get(2).id(), false, "refused", 1, 3);
    assertTrue(share.reportDue(3));
    var report = share.report(null, 3);
    assertEquals(List.of(7L, 5, 0, 2, 1, 2, 1), List.of(report.grant(), report.share(), report.ready(), report.inUse(),
        report.successes(), report.failures(), report.failuresSinceSuccess()));
    assertEquals("refused", report.reason());
    assertEquals(3, report.lastEndMillis());
    assertFalse(share.reportDue(4), "nothing new");
    assertEquals(0, share.report(null, 4).failures(), "counted once");
  }

  @Test
  void aDeadSitesGrantDefersWhatIsReadyAndWhatComesUntilItsTime() {
    var share = share(50, Duration.ZERO);
    share.enqueue("Q1", List.of("a@x"), 0);
    var deferred = share.granted(new NodeQueue.Share(ROUTE, 8, 0, 1_000, "refused", 0), 0);
    assertEquals(Map.of("Q1", List.of("a@x")), deferred);
    assertEquals("refused", share.deadReason());
    assertEquals(List.of("b@x"), share.enqueue("Q2", List.of("b@x"), 500));
    assertEquals(List.of(), share.enqueue("Q3", List.of("c@x"), 1_000), "its time is up: queued again");
  }

  @Test
  void aRateDelayHoldsTheNextLeaseBack() {
    var share = share(50, Duration.ofMillis(700));
    share.granted(grant(9, 1), 0);
    share.enqueue("Q1", List.of("a@x"), 0);
    share.enqueue("Q2", List.of("b@x"), 0);
    var first = share.grantable(0, ids::getAndIncrement);
    assertEquals(1, first.size());
    share.completed(first.get(0).id(), true, "", 0, 100);
    assertEquals(List.of(), share.grantable(100, ids::getAndIncrement));
    assertEquals(800, share.waitsUntilMillis(100));
    assertEquals(1, share.grantable(800, ids::getAndIncrement).size());
  }

  @Test
  void anExpiredLeaseWaitsAgainAndALateReportOfItIsIgnored() {
    var share = share(50, Duration.ZERO);
    share.granted(grant(7, 1), 0);
    share.enqueue("Q1", List.of("a@x"), 0);
    var lease = share.grantable(0, ids::getAndIncrement).get(0);
    assertEquals(lease, share.giveBack(lease.id()));
    assertNull(share.completed(lease.id(), true, "", 0, 5));
    assertEquals("Q1", share.grantable(5, ids::getAndIncrement).get(0).queueId());
    assertEquals(Map.of(), share.takeReady());
  }
}

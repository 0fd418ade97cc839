package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a destination queue divides its window among nodes, without actors: the nodes are letters. */
class ShareAllocationTest {
  private static final long FIRST = 1_000;
  private final ShareAllocation<String> shares = new ShareAllocation<>(FIRST);

  @Test
  void theWindowIsSplitEvenlyAndNoNodeGetsMoreThanItCanUse() {
    shares.report("a", 0, 0, 100, 0);
    shares.report("b", 0, 0, 100, 0);
    shares.report("c", 0, 0, 2, 0);
    var grants = shares.allocate(20, 0);
    assertEquals(Map.of("a", 9, "b", 9, "c", 2), Map.of("a", grants.get("a").size(), "b", grants.get("b").size(),
        "c", grants.get("c").size()));
    assertEquals(3, grants.size());
    assertTrue(grants.values().stream().allMatch(g -> g.id() >= FIRST), "this queue's grants");
    assertEquals(Map.of(), shares.allocate(20, 0), "nothing changes, nothing is sent");
  }

  @Test
  void aShareShrinksAtOnceButOthersGrowOnlyIntoWhatTheNodeAcknowledged() {
    shares.report("a", 0, 0, 10, 0);
    long first = shares.allocate(6, 0).get("a").id();
    shares.report("a", first, 6, 4, 6);
    shares.report("b", 0, 0, 10, 0);
    var grants = shares.allocate(6, 0);
    assertEquals(3, grants.get("a").size(), "a's share shrinks to its part");
    assertEquals(null, grants.get("b"), "but a may still have 6 out: nothing is free for b");
    // a heard of its smaller share with 5 still out: one place is free.
    shares.report("a", grants.get("a").id(), 3, 4, 5);
    assertEquals(1, shares.allocate(6, 0).get("b").size());
    // With 3 out it is within its share: b gets the rest of its part.
    shares.report("a", grants.get("a").id(), 3, 4, 3);
    assertEquals(3, shares.allocate(6, 0).get("b").size());
  }

  @Test
  void aReportOnAnOlderGrantDoesNotLowerTheCeiling() {
    shares.report("a", 0, 0, 10, 0);
    long first = shares.allocate(4, 0).get("a").id();
    shares.report("b", 0, 0, 10, 0);
    shares.allocate(4, 0);
    // a's report crossed the smaller grant: it counts as holding 4 still.
    shares.report("a", first, 4, 10, 1);
    assertEquals(null, shares.allocate(4, 0).get("b"));
  }

  @Test
  void aShareFromTheQueuesEarlierIncarnationCountsUntilThisOneGrants() {
    // The queue moved: a holds 4 of a grant from before, with 4 out.
    shares.report("a", FIRST - 10, 4, 10, 4);
    shares.report("b", 0, 0, 10, 0);
    var grants = shares.allocate(6, 0);
    assertEquals(3, grants.get("a").size());
    assertEquals(2, grants.get("b").size(), "only what a's 4 leave");
  }

  @Test
  void moreNodesThanPlacesTakeTurns() {
    shares.report("a", 0, 0, 5, 0);
    long t = 10_000;
    var grant = shares.allocate(1, t).get("a");
    assertEquals(1, grant.size());
    shares.report("b", 0, 0, 5, 0);
    shares.report("a", grant.id(), 1, 5, 1);
    assertEquals(Map.of(), shares.allocate(1, t + 10), "a keeps its turn for a while");
    var turn = shares.allocate(1, t + ShareAllocation.TURN_MILLIS + 10);
    assertEquals(0, turn.get("a").size(), "then b's turn comes");
    shares.report("a", turn.get("a").id(), 0, 5, 0);
    assertEquals(1, shares.allocate(1, t + ShareAllocation.TURN_MILLIS + 20).get("b").size());
  }

  @Test
  void aGoneNodesPlacesAreFreeAndADeadSiteRevokesEveryShare() {
    shares.report("a", 0, 0, 10, 0);
    shares.report("b", 0, 0, 10, 0);
    shares.allocate(4, 0);
    shares.forget("a");
    assertEquals(4, shares.allocate(4, 0).get("b").size());
    var revoked = shares.revokeAll();
    assertEquals(1, revoked.size());
    assertEquals(0, revoked.get("b").size());
  }
}

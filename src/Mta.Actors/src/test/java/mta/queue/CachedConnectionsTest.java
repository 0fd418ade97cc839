package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class CachedConnectionsTest {

  @Test
  void reportsAreAbsoluteCountsPerAgent() {
    var idle = new CachedConnections<String>();
    idle.report("node1", 2);
    idle.report("node2", 1);
    assertEquals(3, idle.total());
    idle.report("node1", 1);
    assertEquals(2, idle.total(), "a later report replaces the earlier one, it does not add to it");
    idle.report("node1", 1);
    assertEquals(2, idle.total(), "the same report twice counts once");
    idle.report("node2", 0);
    assertEquals(1, idle.total());
  }

  @Test
  void aLeaseGoesToTheFirstCandidateThatHoldsAnIdleConnection() {
    var idle = new CachedConnections<String>();
    idle.report("node3", 1);
    assertEquals("node3", idle.take(List.of("node1", "node2", "node3")));
    assertEquals(0, idle.total(), "the taken connection is busy now, no longer idle");
    assertNull(idle.take(List.of("node1", "node2", "node3")), "nobody holds one any more");
  }

  @Test
  void agentsHoldingIdleConnectionsTakeTurns() {
    var idle = new CachedConnections<String>();
    var agents = List.of("node1", "node2", "node3");
    idle.report("node1", 2);
    idle.report("node2", 2);
    var taken = List.of(idle.take(agents), idle.take(agents), idle.take(agents), idle.take(agents));
    assertEquals(List.of("node1", "node2", "node1", "node2"), taken, "not all of node1's first, then node2's");
    assertNull(idle.take(agents));
  }

  @Test
  void onlyCandidatesAreConsidered() {
    var idle = new CachedConnections<String>();
    idle.report("leaving", 2);
    assertNull(idle.take(List.of("node1", "node2")), "an agent that takes no leases keeps its idle connections");
    assertEquals(2, idle.total(), "they still count: they are open at the site until it closes them");
  }

  @Test
  void aGoneAgentTakesItsConnectionsWithIt() {
    var idle = new CachedConnections<String>();
    idle.report("node1", 2);
    idle.report("node2", 1);
    idle.forget("node1");
    assertEquals(1, idle.total());
    assertNull(idle.take(List.of("node1")));
  }
}

package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LeaseRoutingTest {
  /** Three nodes: the agent "agentN" runs on the node tagged "nnN". */
  private static final List<String> AGENTS = List.of("agent1", "agent2", "agent3");

  private final CachedConnections<String> idle = new CachedConnections<>();
  private final LeaseRouting<String> routing = new LeaseRouting<>(idle, agent -> "nn" + agent.charAt(5));

  private static LinkedHashMap<String, List<String>> ready(String... queueIds) {
    var ready = new LinkedHashMap<String, List<String>>();
    for (var id : queueIds) ready.put(id, List.of("rcpt@example.com"));
    return ready;
  }

  @Test
  void theOldestMessageGoesToItsHomeNodesAgentOverANewConnection() {
    var grant = routing.next(ready("1z1znn2", "2z1znn1"), AGENTS, true);
    assertEquals(new LeaseRouting.Grant<>("agent2", "1z1znn2"), grant);
  }

  @Test
  void itsHomeAgentsIdleConnectionComesFirst() {
    idle.report("agent1", 1);
    idle.report("agent3", 1);
    assertEquals(new LeaseRouting.Grant<>("agent3", "1z1znn3"), routing.next(ready("1z1znn3"), AGENTS, false));
    assertEquals(1, idle.total(), "agent3's connection is taken, agent1's still idle");
  }

  @Test
  void anotherAgentsIdleConnectionTakesAMessageOfItsOwnNodeBeforeANewConnectionIsOpened() {
    idle.report("agent1", 1);
    var grant = routing.next(ready("1z1znn2", "2z1znn3", "3z1znn1", "4z1znn1"), AGENTS, true);
    assertEquals(new LeaseRouting.Grant<>("agent1", "3z1znn1"), grant, "the oldest of agent1's own node");
    assertEquals(0, idle.total());
  }

  @Test
  void withNoneOfItsOwnNearTheFrontTheHomeAgentOpensAConnectionIfTheWindowHasRoomElseTheIdleOneCarriesTheOldest() {
    idle.report("agent1", 1);
    var ids = new String[LeaseRouting.SCAN + 1];
    for (int i = 0; i < LeaseRouting.SCAN; i++) ids[i] = i + "z1znn2";
    ids[LeaseRouting.SCAN] = "99z1znn1";
    assertEquals(new LeaseRouting.Grant<>("agent2", "0z1znn2"), routing.next(ready(ids), AGENTS, true));
    assertEquals(1, idle.total(), "agent1's connection stays idle");
    assertEquals(new LeaseRouting.Grant<>("agent1", "0z1znn2"), routing.next(ready(ids), AGENTS, false),
        "no room for a new connection: the open one is used, across the cluster");
    assertEquals(0, idle.total());
  }

  @Test
  void aMessageWithoutAHomeAgentTakesAnIdleConnectionBeforeANewOne() {
    idle.report("agent3", 1);
    assertEquals(new LeaseRouting.Grant<>("agent3", "1z1"), routing.next(ready("1z1"), AGENTS, true));
  }

  @Test
  void withoutRoomForAConnectionAndNoIdleOneNothingGoes() {
    assertNull(routing.next(ready("1z1znn2"), AGENTS, false));
    assertNull(routing.next(ready(), AGENTS, true), "nothing ready");
    assertNull(routing.next(ready("1z1znn2"), List.of(), true), "no agent takes leases");
  }

  @Test
  void messagesWithoutAHomeAgentGoRoundRobin() {
    var noHome = Map.of("1z1", "old id", "2z1znn9", "node gone");
    var taken = new java.util.ArrayList<String>();
    for (int i = 0; i < 3; i++) {
      for (var id : noHome.keySet()) taken.add(routing.next(ready(id), AGENTS, true).agent());
    }
    assertEquals(List.of("agent1", "agent2", "agent3", "agent1", "agent2", "agent3"), taken);
  }
}

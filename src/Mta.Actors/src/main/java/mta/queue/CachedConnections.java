package mta.queue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The connections to one destination that delivery agents keep open, idle, between leases
 * (Postfix's connection cache, seen from the queue manager): each is a connection at the
 * site as much as a lease under way, so they count in the concurrency window, and the next
 * lease goes to an agent that holds one, which reuses it instead of opening another.
 *
 * <p>Agents report how many they hold (an absolute count, so a lost or late report corrects
 * itself with the next one). A lease granted to an agent for one of its idle connections
 * takes that connection out of the count at once; the agent's next report has the truth.
 *
 * @param <A> how an agent is named (an actor reference in the queue, anything in a test)
 */
final class CachedConnections<A> {
  private final Map<A, Integer> byAgent = new HashMap<>();
  private int total;
  /** Where the next search starts: agents holding idle connections take turns. */
  private int turn;

  /** The agent says how many idle connections to this destination it holds now. */
  void report(A agent, int count) {
    int before = byAgent.getOrDefault(agent, 0);
    if (count > 0) byAgent.put(agent, count);
    else byAgent.remove(agent);
    total += count - before;
  }

  /** The agent is gone, and its connections with it. */
  void forget(A agent) {
    report(agent, 0);
  }

  /** Idle connections held by all agents. */
  int total() {
    return total;
  }

  /** Takes one of the agent's idle connections, if it holds one. */
  boolean takeFrom(A agent) {
    int held = byAgent.getOrDefault(agent, 0);
    if (held == 0) return false;
    report(agent, held - 1);
    return true;
  }

  /**
   * One of {@code candidates} that holds an idle connection, which is counted as taken; null
   * when none holds one. They take turns: were it always the first, the others' connections
   * would wait out their cache time and close, and the work would gather on one node.
   */
  A take(List<A> candidates) {
    return take(candidates, agent -> true);
  }

  /** As {@link #take(List)}, among the candidates that {@code accepts}. */
  A take(List<A> candidates, Predicate<A> accepts) {
    for (int i = 0; i < candidates.size(); i++) {
      A agent = candidates.get(Math.floorMod(turn + i, candidates.size()));
      if (byAgent.getOrDefault(agent, 0) > 0 && accepts.test(agent) && takeFrom(agent)) {
        turn += i + 1;
        return agent;
      }
    }
    return null;
  }
}

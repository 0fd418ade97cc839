package mta.queue;

import java.util.List;
import java.util.SequencedMap;
import java.util.function.Function;

/**
 * Which ready message a destination queue leases next, and to which delivery agent: qmgr's
 * oldest-first, with the cluster's question of where.
 *
 * <p>A message is best delivered at home ({@link QueueId#homeOf}), the node that received it,
 * where its Message entity and content are; and over a connection already open at the site
 * rather than a new one. In that order of preference:
 * <ol>
 *   <li>the oldest ready message, by its home agent over an idle connection it keeps;
 *   <li>an agent's own message (the oldest of its node among the first {@link #SCAN} ready),
 *       over an idle connection it keeps;
 *   <li>the oldest, by its home agent over a new connection, when the window has room;
 *   <li>the oldest, over an idle connection another agent keeps: it crosses the cluster, but
 *       opens nothing new at the site.
 * </ol>
 * A message without a home agent (an id from before homes, a node that is gone) takes any idle
 * connection first, else a new one at the next agent in turn.
 *
 * @param <A> how an agent is named (an actor reference in the queue, anything in a test)
 */
final class LeaseRouting<A> {
  /** How far an agent with an idle connection looks down the ready list for a message of its node. */
  static final int SCAN = 64;

  record Grant<A>(A agent, String queueId) {}

  private final CachedConnections<A> idle;
  private final Function<A, String> homeTagOf;
  private int nextAgent;

  LeaseRouting(CachedConnections<A> idle, Function<A, String> homeTagOf) {
    this.idle = idle;
    this.homeTagOf = homeTagOf;
  }

  /**
   * The next lease among {@code ready} (queue ids, oldest first) for one of {@code candidates};
   * null when there is nothing to lease, or only a new connection would carry it and
   * {@code roomForConnection} is false. An idle connection it uses is counted as taken.
   */
  Grant<A> next(SequencedMap<String, ?> ready, List<A> candidates, boolean roomForConnection) {
    if (ready.isEmpty() || candidates.isEmpty()) return null;
    var oldest = ready.firstEntry().getKey();
    var home = homeAgent(oldest, candidates);
    if (home != null && idle.takeFrom(home)) return new Grant<>(home, oldest);
    var withOwn = idle.take(candidates, agent -> ownMessage(ready, agent) != null);
    if (withOwn != null) return new Grant<>(withOwn, ownMessage(ready, withOwn));
    if (roomForConnection && home != null) return new Grant<>(home, oldest);
    var any = idle.take(candidates);
    if (any != null) return new Grant<>(any, oldest);
    if (!roomForConnection) return null;
    return new Grant<>(candidates.get(Math.floorMod(nextAgent++, candidates.size())), oldest);
  }

  private A homeAgent(String queueId, List<A> candidates) {
    var home = QueueId.homeOf(queueId);
    if (home.isEmpty()) return null;
    for (var agent : candidates) {
      if (home.get().equals(homeTagOf.apply(agent))) return agent;
    }
    return null;
  }

  /** The oldest message of the agent's node among the first SCAN ready ones, or null. */
  private String ownMessage(SequencedMap<String, ?> ready, A agent) {
    var tag = homeTagOf.apply(agent);
    int looked = 0;
    for (var queueId : ready.keySet()) {
      if (looked++ == SCAN) break;
      if (QueueId.isHomedAt(queueId, tag)) return queueId;
    }
    return null;
  }
}

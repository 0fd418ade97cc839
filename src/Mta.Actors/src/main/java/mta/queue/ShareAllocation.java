package mta.queue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a destination queue divides its concurrency window among the nodes: each node's share
 * of the deliveries and idle connections at the site, so that together they stay within the
 * window while each node leases its own mail (qmgr's window, held by one queue for the
 * cluster, spent by many).
 *
 * <p>Shares follow demand (a node's ready messages plus what it has at the site): the window
 * is filled up evenly, a node never gets more than it can use, and what one cannot use goes
 * to the others; where shares must grow, the one furthest below its part grows first. A share shrinks at once and grows only into
 * room: until a node has acknowledged a smaller share, it may still use the larger one, so
 * the queue counts for it the larger of its share and what it reported in use (its ceiling),
 * and grants others only what the ceilings leave free.
 *
 * <p>Grant ids grow across the queue's incarnations (they start from the clock): a node's
 * report names the grant it holds, so a queue that has moved knows a share it did not grant
 * and counts it until the node acknowledges one of its own.
 *
 * @param <K> how a node is named (its NodeQueue's reference; anything in a test)
 */
final class ShareAllocation<K> {
  record Grant(long id, int size) {}

  private static final class Holder {
    /** The share last granted (or, before this queue granted one, what the node says it holds). */
    int share;
    /** What the node may have at the site now, as far as this queue knows. */
    int ceiling;
    /** Ready messages, deliveries under way and idle connections. */
    int demand;
    /** The last grant this queue sent it; 0: none. */
    long grant;
    /** The share the water-filling gives it now (scratch). */
    int target;
    /** Since when it has had a share, or waited for one (0: neither). */
    long heldSince;
    long waitingSince;

    /** Who goes first when nodes take turns: one within its turn, then the ones waiting, longest first, then the rest. */
    long turnOrder(long now) {
      if (share > 0 && now - heldSince < TURN_MILLIS) return Long.MIN_VALUE;
      return share > 0 ? Long.MAX_VALUE : waitingSince;
    }
  }

  /** When more nodes want the site than the window has places, each keeps a place this long before another's turn. */
  static final long TURN_MILLIS = 1_000;

  private final Map<K, Holder> holders = new LinkedHashMap<>();
  private final long firstGrant;
  private long nextGrant;

  ShareAllocation(long firstGrant) {
    this.firstGrant = firstGrant;
    this.nextGrant = firstGrant;
  }

  /** A node's report: the grant it holds, its share, its ready messages and what it has at the site. */
  void report(K node, long grant, int share, int ready, int inUse) {
    var h = holders.computeIfAbsent(node, k -> new Holder());
    h.demand = ready + inUse;
    if (grant < firstGrant) {
      // A share from an earlier incarnation of this queue: it stands until this one grants.
      if (h.grant == 0) h.share = share;
      h.ceiling = Math.max(h.ceiling, Math.max(share, inUse));
    } else if (grant == h.grant) {
      // The node is on the latest grant: the ceiling is that share, or what it still has in use above it.
      h.ceiling = Math.max(h.share, inUse);
    } else {
      // An earlier grant of ours: it has not seen the latest yet.
      h.ceiling = Math.max(h.ceiling, inUse);
    }
  }

  /** The node is gone: what it had at the site is gone with it. */
  void forget(K node) {
    holders.remove(node);
  }

  List<K> nodes() {
    return List.copyOf(holders.keySet());
  }

  /** The grants to send so that the shares follow demand within {@code window}: only the ones that change. */
  Map<K, Grant> allocate(int window, long now) {
    fill(window, now);
    var changed = new LinkedHashMap<K, Holder>();
    holders.forEach((node, h) -> {
      if (h.target < h.share) {
        h.share = h.target;
        changed.put(node, h);
      }
    });
    int free = window - holders.values().stream().mapToInt(h -> h.ceiling).sum();
    var growing = new ArrayList<>(holders.entrySet());
    growing.sort(Comparator.comparingInt((Map.Entry<K, Holder> e) -> e.getValue().share - e.getValue().target));
    for (var e : growing) {
      var h = e.getValue();
      int more = Math.min(h.target - h.share, free);
      if (more <= 0) continue;
      h.share += more;
      h.ceiling = Math.max(h.ceiling, h.share);
      free -= more;
      changed.put(e.getKey(), h);
    }
    var grants = new LinkedHashMap<K, Grant>();
    changed.forEach((node, h) -> grants.put(node, grantTo(h)));
    holders.values().removeIf(h -> h.share == 0 && h.ceiling == 0 && h.demand == 0);
    for (var h : holders.values()) {
      h.heldSince = h.share == 0 ? 0 : h.heldSince == 0 ? now : h.heldSince;
      h.waitingSince = h.share > 0 || h.demand == 0 ? 0 : h.waitingSince == 0 ? now : h.waitingSince;
    }
    return grants;
  }

  /** Every node's share is none (the site is dead): a grant for each, so that each hears it. */
  Map<K, Grant> revokeAll() {
    var grants = new LinkedHashMap<K, Grant>();
    holders.forEach((node, h) -> {
      h.share = 0;
      grants.put(node, grantTo(h));
    });
    return grants;
  }

  private Grant grantTo(Holder h) {
    h.grant = nextGrant++;
    return new Grant(h.grant, h.share);
  }

  /**
   * Water-filling: in order of demand, least first, each node gets its demand or an even part
   * of what is left, whichever is less; so what a small one cannot use goes to the larger ones.
   * When more nodes want the site than the window has places, they take turns, one place each.
   */
  private void fill(int window, long now) {
    holders.values().forEach(h -> h.target = 0);
    var wanting = new ArrayList<>(holders.values().stream().filter(h -> h.demand > 0).toList());
    if (wanting.size() > window) {
      wanting.sort(Comparator.comparingLong(h -> h.turnOrder(now)));
      wanting.subList(0, window).forEach(h -> h.target = 1);
      return;
    }
    wanting.sort(Comparator.comparingInt(h -> h.demand));
    int left = window;
    int count = wanting.size();
    for (var h : wanting) {
      h.target = Math.min(h.demand, left / count--);
      left -= h.target;
    }
  }
}

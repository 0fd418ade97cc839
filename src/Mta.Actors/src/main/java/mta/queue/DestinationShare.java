package mta.queue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import mta.config.MtaConfig;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One node's part of one destination queue: the ready recipients of the messages this node
 * holds (oldest first), the leases its delivery agent has under way, its idle connections to
 * the site, and the share of the destination's concurrency window that the
 * {@link DestinationQueue} granted this node. Leases stay within the share, and leases and
 * idle connections together too, except that a lease may take an idle connection (that opens
 * nothing new).
 *
 * <p>The outcomes (did the site answer?) are counted here and reported with the demand now
 * and then ({@link #report}), not per delivery: the queue's feedback and its verdict on a dead
 * site need the counts, not each message. Plain code, {@link NodeQueue} is its actor.
 */
final class DestinationShare {
  /** Without a share, with mail waiting, the node asks again this often (a report may be lost when the queue moves). */
  static final long ASK_AGAIN_MILLIS = 1_000;

  private final String route;
  private final MtaConfig.DestinationLimits limits;
  private final LinkedHashMap<String, LinkedHashSet<String>> ready = new LinkedHashMap<>();
  private final Map<Long, NodeQueue.Lease> leases = new HashMap<>();
  private int idle;
  /** The share: how many deliveries and idle connections this node may have at the site. */
  private int size;
  /** The grant that set the share (0: none from any queue yet). */
  private long grant;
  private long deadUntilMillis;
  private String deadReason = "";
  /** destination_rate_delay: no lease before this time. */
  private long notBeforeMillis;
  private int successes;
  private int failures;
  private int failuresSinceSuccess;
  private String failureReason = "";
  private long lastEndMillis;
  /** Something the queue has not heard yet. */
  private boolean changed;
  private long reportedAtMillis = Long.MIN_VALUE / 2;

  DestinationShare(String route, MtaConfig.DestinationLimits limits) {
    this.route = route;
    this.limits = limits;
  }

  /**
   * A Message entity's recipients are ready here; the ones already out on a lease are left
   * out (a Message entity hands out again what got no answer yet). While the site is dead
   * they are not queued: the answer is the recipients to defer now.
   */
  List<String> enqueue(String queueId, List<String> recipients, long now) {
    if (now < deadUntilMillis) return recipients;
    var out = new LinkedHashSet<String>();
    leases.values().stream().filter(l -> l.queueId().equals(queueId)).forEach(l -> out.addAll(l.recipients()));
    var waiting = ready.computeIfAbsent(queueId, id -> new LinkedHashSet<>());
    recipients.stream().filter(r -> !out.contains(r)).forEach(waiting::add);
    if (waiting.isEmpty()) ready.remove(queueId);
    changed = true;
    return List.of();
  }

  /**
   * The leases to grant now, oldest message first, each with at most the transport's
   * recipient limit: while the share has room (or an idle connection can carry one), the
   * site is not dead and no rate delay runs.
   */
  List<NodeQueue.Lease> grantable(long now, LongSupplier leaseIds) {
    var granted = new ArrayList<NodeQueue.Lease>();
    // Never more leases than the share; a new connection only where idle ones leave room.
    // (The idle count can be a lease behind: a connection the agent reported idle may be
    // taken already by a lease whose message it is still fetching.)
    while (!ready.isEmpty() && now >= deadUntilMillis && now >= notBeforeMillis
        && leases.size() < size && (idle > 0 || atSite() < size)) {
      if (!limits.rateDelay().isZero() && !leases.isEmpty()) break;
      var oldest = ready.firstEntry();
      var batch = new ArrayList<String>();
      var it = oldest.getValue().iterator();
      while (it.hasNext() && batch.size() < limits.recipientLimit()) {
        batch.add(it.next());
        it.remove();
      }
      if (oldest.getValue().isEmpty()) ready.remove(oldest.getKey());
      // An idle connection carries it: the agent takes the one it keeps for this destination.
      if (idle > 0) idle--;
      var lease = new NodeQueue.Lease(leaseIds.getAsLong(), route, oldest.getKey(), batch);
      leases.put(lease.id(), lease);
      granted.add(lease);
      changed = true;
    }
    return granted;
  }

  /** When the next lease may go, if a rate delay holds back mail that is ready; else 0. */
  long waitsUntilMillis(long now) {
    return !ready.isEmpty() && notBeforeMillis > now ? notBeforeMillis : 0;
  }

  /**
   * A lease is done: its outcome counts for the feedback, and {@code idleConnections} is how
   * many connections the agent now keeps open to the site. Null for a lease this node no
   * longer holds (it expired).
   */
  NodeQueue.Lease completed(long leaseId, boolean siteAnswered, String reason, int idleConnections, long now) {
    idle = idleConnections;
    changed = true;
    var lease = leases.remove(leaseId);
    if (lease == null) return null;
    if (siteAnswered) {
      successes++;
      failuresSinceSuccess = 0;
    } else {
      failures++;
      failuresSinceSuccess++;
      failureReason = reason;
    }
    lastEndMillis = now;
    if (!limits.rateDelay().isZero()) notBeforeMillis = now + limits.rateDelay().toMillis();
    return lease;
  }

  void connectionsIdle(int idleConnections) {
    idle = idleConnections;
    changed = true;
  }

  /** A lease that got no answer (expired, or declined by a leaving agent) waits again. Null when it is not held. */
  NodeQueue.Lease giveBack(long leaseId) {
    var lease = leases.remove(leaseId);
    if (lease != null) {
      ready.computeIfAbsent(lease.queueId(), id -> new LinkedHashSet<>()).addAll(lease.recipients());
      changed = true;
    }
    return lease;
  }

  /**
   * The queue's grant. A dead site's grant makes the ready mail leave at once: the answer is
   * what to defer, by queue id.
   */
  Map<String, List<String>> granted(NodeQueue.Share share, long now) {
    // A smaller share: the queue counts the larger one until it hears how much is in use.
    if (share.size() < size) changed = true;
    size = share.size();
    grant = share.grant();
    notBeforeMillis = Math.max(notBeforeMillis, share.notBeforeMillis());
    if (share.deadUntilMillis() <= now) return Map.of();
    deadUntilMillis = share.deadUntilMillis();
    deadReason = share.deadReason();
    return takeReady();
  }

  /**
   * After a smaller share: how many idle connections it leaves room for beside the leases,
   * when that is fewer than are open (the rest should close now); -1 when all fit.
   */
  int idleToKeep() {
    int room = Math.max(0, size - leases.size());
    return idle > room ? room : -1;
  }

  /** Every ready recipient, by queue id, taken off this node (it is leaving, or the site is dead). */
  Map<String, List<String>> takeReady() {
    var taken = new LinkedHashMap<String, List<String>>();
    ready.forEach((id, recipients) -> taken.put(id, List.copyOf(recipients)));
    if (!ready.isEmpty()) changed = true;
    ready.clear();
    return taken;
  }

  String deadReason() {
    return deadReason;
  }

  /** What this node has at the site: deliveries under way and idle connections. */
  private int atSite() {
    return leases.size() + idle;
  }

  /** Whether the queue should hear from this node now: news, or mail that waits for a share. */
  boolean reportDue(long now) {
    boolean waitingForShare = !ready.isEmpty() && atSite() >= size;
    return changed || (waitingForShare && now - reportedAtMillis >= ASK_AGAIN_MILLIS);
  }

  /** Mail is ready and the share is none: ask now rather than at the next report. */
  boolean needsShare(long now) {
    return size == 0 && !ready.isEmpty() && now - reportedAtMillis >= ASK_AGAIN_MILLIS;
  }

  /** This node's report, with the outcomes since the last one; they are not counted again. */
  DestinationQueue.ShareReport report(ActorRef<NodeQueue.Command> node, long now) {
    var report = new DestinationQueue.ShareReport(node, grant, size, ready.size(), atSite(), successes,
        failures, failuresSinceSuccess, failures > 0 ? failureReason : "", lastEndMillis);
    successes = 0;
    failures = 0;
    failuresSinceSuccess = 0;
    changed = false;
    reportedAtMillis = now;
    return report;
  }

  /** Nothing here any more: no mail, no deliveries, no connections, no share, nothing to tell. */
  boolean unused(long now) {
    return ready.isEmpty() && leases.isEmpty() && idle == 0 && size == 0 && !changed && now >= deadUntilMillis;
  }
}

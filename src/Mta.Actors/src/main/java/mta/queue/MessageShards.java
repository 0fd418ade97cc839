package mta.queue;

import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorPath;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.dispatch.Futures;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * Where Message entities live: at their home, the node that received them ({@link QueueId#homeOf}).
 *
 * <p>A message's shard is named by its home tag and a hash of its id ({@code tag-7}); the
 * coordinator puts a shard on the node of that tag, so smtpd's Accept (the content), the
 * delivery agent's GetContent and its results stay inside one node, and only the small
 * Enqueue, Deliver and LeaseCompleted cross the cluster. While the home node is down its
 * shards go to the node with the fewest shards, and back home once it is up again at the same
 * address. Ids without a home hash over {@link #UNHOMED_SHARDS} shards placed the same
 * fewest-shards way (Pekko's least-shard allocation, without its rebalancing).
 */
final class MessageShards {
  /** Per home: enough to spread a dead node's messages over the others when they move. */
  static final int SHARDS_PER_HOME = 16;
  static final int UNHOMED_SHARDS = 1000;
  /** Shards moved home per rebalance round (every 10 s by default). */
  private static final int MOVES_PER_ROUND = 16;

  private MessageShards() {}

  static String shardOf(String queueId) {
    return QueueId.homeOf(queueId)
        .map(home -> home + "-" + Math.floorMod(queueId.hashCode(), SHARDS_PER_HOME))
        .orElseGet(() -> Integer.toString(Math.floorMod(queueId.hashCode(), UNHOMED_SHARDS)));
  }

  /** The home tag a shard belongs to; empty for shards of ids without a home. */
  static Optional<String> homeOfShard(String shardId) {
    int dash = shardId.indexOf('-');
    return dash > 0 ? Optional.of(shardId.substring(0, dash)) : Optional.empty();
  }

  /** The node an actor lives on: a reference to a local actor has no host in its path, it lives on {@code self}. */
  static Address nodeOf(ActorPath actor, Address self) {
    var address = actor.address();
    return address.hasGlobalScope() ? address : self;
  }

  static <M> ShardingMessageExtractor<ShardingEnvelope<M>, M> extractor() {
    return new ShardingMessageExtractor<>() {
      @Override
      public String entityId(ShardingEnvelope<M> envelope) {
        return envelope.entityId();
      }

      @Override
      public String shardId(String entityId) {
        return shardOf(entityId);
      }

      @Override
      public M unwrapMessage(ShardingEnvelope<M> envelope) {
        return envelope.message();
      }
    };
  }

  /**
   * The coordinator's placement, by the cluster's membership: only a node that is Up (not
   * joining, leaving or exiting) gets shards, and shards go back home only while the cluster is
   * settled (every member Up, none unreachable), as Pekko's least-shard strategy does, so a
   * node that is leaving is not handed back the shards it is handing off.
   */
  static final class HomeAllocation extends ShardCoordinator.AbstractShardAllocationStrategy
      implements ShardCoordinator.ActorSystemDependentAllocationStrategy {

    /** The nodes that are Up, and whether every member is Up and reachable. */
    record Membership(Set<Address> up, boolean settled) {}

    /** The coordinator's own node: its own region comes with a local address, without host and port. */
    private Address self;
    private Supplier<Membership> membership;

    /** Started by the coordinator ({@link #start}). */
    HomeAllocation() {}

    HomeAllocation(Address self, Supplier<Membership> membership) {
      this.self = self;
      this.membership = membership;
    }

    @Override
    public void start(ActorSystem system) {
      var cluster = Cluster.get(system);
      self = cluster.selfAddress();
      membership = () -> {
        var state = cluster.state();
        var up = new HashSet<Address>();
        boolean settled = state.getUnreachable().isEmpty();
        for (Member m : state.getMembers()) {
          if (m.status() == MemberStatus.up()) up.add(m.address());
          else settled = false;
        }
        return new Membership(up, settled);
      };
    }

    @Override
    public Future<ActorRef> allocateShard(
        ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> currentShardAllocations) {
      var regions = upRegions(currentShardAllocations, membership.get());
      return Futures.successful(homeRegion(shardId, regions)
          .or(() -> fewestShards(regions))
          .or(() -> fewestShards(currentShardAllocations))
          .orElse(requester));
    }

    @Override
    public Future<Set<String>> rebalance(
        Map<ActorRef, IndexedSeq<String>> currentShardAllocations, Set<String> rebalanceInProgress) {
      var members = membership.get();
      var away = new HashSet<String>();
      if (!members.settled()) return Futures.successful(away);
      var regions = upRegions(currentShardAllocations, members);
      currentShardAllocations.forEach((region, shards) -> shards.foreach(shard -> {
        if (away.size() < MOVES_PER_ROUND && !rebalanceInProgress.contains(shard)) {
          var home = homeOfShard(shard);
          if (home.isPresent() && !home.get().equals(QueueId.homeTag(node(region)))
              && homeRegion(shard, regions).isPresent()) {
            away.add(shard);
          }
        }
        return null;
      }));
      return Futures.successful(away);
    }

    private Map<ActorRef, IndexedSeq<String>> upRegions(Map<ActorRef, IndexedSeq<String>> all, Membership members) {
      var up = new HashMap<ActorRef, IndexedSeq<String>>();
      all.forEach((region, shards) -> {
        if (members.up().contains(node(region))) up.put(region, shards);
      });
      return up;
    }

    private Optional<ActorRef> homeRegion(String shardId, Map<ActorRef, IndexedSeq<String>> regions) {
      return homeOfShard(shardId).flatMap(home -> regions.keySet().stream()
          .filter(region -> home.equals(QueueId.homeTag(node(region))))
          .min(Comparator.comparing(ActorRef::toString)));
    }

    private static Optional<ActorRef> fewestShards(Map<ActorRef, IndexedSeq<String>> regions) {
      return regions.entrySet().stream()
          .min(Comparator.<Map.Entry<ActorRef, IndexedSeq<String>>>comparingInt(e -> e.getValue().size())
              .thenComparing(e -> e.getKey().toString()))
          .map(Map.Entry::getKey);
    }

    private Address node(ActorRef region) {
      return nodeOf(region.path(), self);
    }
  }
}

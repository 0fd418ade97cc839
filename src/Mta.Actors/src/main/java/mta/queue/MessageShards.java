package mta.queue;

import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Address;
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
   * The coordinator's placement. {@code self} is the coordinator's own node: its own region
   * comes with a local address, without host and port.
   */
  static final class HomeAllocation extends ShardCoordinator.AbstractShardAllocationStrategy {
    private final Address self;

    HomeAllocation(Address self) {
      this.self = self;
    }

    @Override
    public Future<ActorRef> allocateShard(
        ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> currentShardAllocations) {
      return Futures.successful(homeRegion(shardId, currentShardAllocations)
          .orElseGet(() -> fewestShards(currentShardAllocations).orElse(requester)));
    }

    @Override
    public Future<Set<String>> rebalance(
        Map<ActorRef, IndexedSeq<String>> currentShardAllocations, Set<String> rebalanceInProgress) {
      var away = new HashSet<String>();
      currentShardAllocations.forEach((region, shards) -> shards.foreach(shard -> {
        if (away.size() < MOVES_PER_ROUND && !rebalanceInProgress.contains(shard)) {
          var home = homeOfShard(shard);
          if (home.isPresent() && !home.get().equals(tag(region))
              && homeRegion(shard, currentShardAllocations).isPresent()) {
            away.add(shard);
          }
        }
        return null;
      }));
      return Futures.successful(away);
    }

    private Optional<ActorRef> homeRegion(String shardId, Map<ActorRef, IndexedSeq<String>> regions) {
      return homeOfShard(shardId).flatMap(home -> regions.keySet().stream()
          .filter(region -> home.equals(tag(region)))
          .min(Comparator.comparing(ActorRef::toString)));
    }

    private static Optional<ActorRef> fewestShards(Map<ActorRef, IndexedSeq<String>> regions) {
      return regions.entrySet().stream()
          .min(Comparator.<Map.Entry<ActorRef, IndexedSeq<String>>>comparingInt(e -> e.getValue().size())
              .thenComparing(e -> e.getKey().toString()))
          .map(Map.Entry::getKey);
    }

    private String tag(ActorRef region) {
      var address = region.path().address();
      return QueueId.homeTag(address.hasGlobalScope() ? address : self);
    }
  }
}

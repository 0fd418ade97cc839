package mta.management;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import mta.anvil.Anvil;
import mta.queue.DestinationQueue;
import mta.queue.Message;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Where one sharded entity type lives (pbm's {@code cluster sharding region-stats}): for each
 * node's region, its shards with their entity counts and totals, and the shards that did not
 * answer in time. Asked of the whole cluster ({@code GetClusterShardingStats}).
 */
public record ShardingStats(String type, List<Region> regions) {

  /** The entity types of a mail node, by name. */
  public static final Map<String, EntityTypeKey<?>> TYPES = Map.of(
      Message.ENTITY_TYPE_KEY.name(), Message.ENTITY_TYPE_KEY,
      DestinationQueue.ENTITY_TYPE_KEY.name(), DestinationQueue.ENTITY_TYPE_KEY,
      Anvil.ENTITY_TYPE_KEY.name(), Anvil.ENTITY_TYPE_KEY);

  public record Region(String address, int shards, int entities, Map<String, Integer> entitiesPerShard, List<String> failed) {}

  static CompletionStage<ShardingStats> ask(ActorSystem<?> system, EntityTypeKey<?> type, Duration timeout) {
    CompletionStage<ShardRegion.ClusterShardingStats> stats = AskPattern.ask(ClusterSharding.get(system).shardState(),
        replyTo -> new GetClusterShardingStats(type, timeout, replyTo), timeout.plusSeconds(1), system.scheduler());
    return stats.thenApply(s -> new ShardingStats(type.name(), s.getRegions().entrySet().stream()
        .map(r -> region(r.getKey().toString(), r.getValue()))
        .sorted(Comparator.comparing(Region::address))
        .toList()));
  }

  private static Region region(String address, ShardRegion.ShardRegionStats stats) {
    var perShard = new TreeMap<String, Integer>();
    stats.getStats().forEach((shard, n) -> perShard.put(shard, (Integer) n));
    return new Region(address, perShard.size(), perShard.values().stream().mapToInt(Integer::intValue).sum(), perShard,
        stats.getFailed().stream().sorted().toList());
  }
}

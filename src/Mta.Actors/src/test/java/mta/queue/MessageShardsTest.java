package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The coordinator's placement of Message shards, on the region references a coordinator
 * sees: remote ones with their node's address, its own with a local one.
 */
class MessageShardsTest {
  private static final Address NODE1 = new Address("pekko", "mta", "10.0.0.1", 25520);
  private static final Address NODE2 = new Address("pekko", "mta", "10.0.0.2", 25520);
  private static final Address NODE3 = new Address("pekko", "mta", "10.0.0.3", 25520);
  private static ActorSystem system;
  private static ActorRef region1;
  private static ActorRef region2;
  /** The coordinator runs on node 3: its own region has no host in its path. */
  private static ActorRef region3;
  private static MessageShards.HomeAllocation allocation;
  private static MessageShards.HomeAllocation.Membership membership;
  private static final MessageShards.HomeAllocation.Membership ALL_UP =
      new MessageShards.HomeAllocation.Membership(Set.of(NODE1, NODE2, NODE3), true);

  @org.junit.jupiter.api.BeforeEach
  void allUp() {
    membership = ALL_UP;
  }

  @BeforeAll
  static void start() {
    system = ActorSystem.create("mta", ConfigFactory.parseString("""
        pekko.actor.provider = remote
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.loglevel = WARNING
        """));
    var provider = ((ExtendedActorSystem) system).provider();
    region1 = provider.resolveActorRef(NODE1 + "/system/sharding/Message");
    region2 = provider.resolveActorRef(NODE2 + "/system/sharding/Message");
    region3 = system.deadLetters();
    assertTrue(region3.path().address().hasLocalScope());
    allocation = new MessageShards.HomeAllocation(NODE3, () -> membership);
  }

  @AfterAll
  static void stop() throws Exception {
    await(system.terminate());
  }

  private static String shardHomedAt(Address node, int n) {
    return QueueId.homeTag(node) + "-" + n;
  }

  @SafeVarargs
  private static Map<ActorRef, IndexedSeq<String>> regions(Map.Entry<ActorRef, List<String>>... entries) {
    var m = new LinkedHashMap<ActorRef, IndexedSeq<String>>();
    for (var e : entries) m.put(e.getKey(), CollectionConverters.asScala(e.getValue()).toIndexedSeq());
    return m;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return Await.result(f, scala.concurrent.duration.Duration.fromNanos(Duration.ofSeconds(5).toNanos()));
  }

  @Test
  void aMessagesShardIsNamedByItsHome() {
    var id = QueueId.next("Kq7");
    assertTrue(MessageShards.shardOf(id).matches("Kq7-\\d+"), MessageShards.shardOf(id));
    assertEquals(Optional.of("Kq7"), MessageShards.homeOfShard(MessageShards.shardOf(id)));
    var old = "4Xk9mBC2dKz3hGtq8V";
    assertEquals(Optional.empty(), MessageShards.homeOfShard(MessageShards.shardOf(old)));
    assertEquals(MessageShards.shardOf(old), MessageShards.shardOf(old), "the same id, the same shard");
  }

  @Test
  void aShardGoesToItsHomeWhoeverAsksFirst() throws Exception {
    var all = regions(Map.entry(region1, List.of()), Map.entry(region2, List.of()), Map.entry(region3, List.of()));
    assertEquals(region2, await(allocation.allocateShard(region1, shardHomedAt(NODE2, 3), all)));
    assertEquals(region3, await(allocation.allocateShard(region1, shardHomedAt(NODE3, 3), all)),
        "the coordinator's own region, known by its local address");
  }

  @Test
  void withItsHomeGoneAShardGoesWhereTheFewestAre() throws Exception {
    var twoLeft = regions(Map.entry(region1, List.of("a", "b")), Map.entry(region3, List.of("c")));
    assertEquals(region3, await(allocation.allocateShard(region1, shardHomedAt(NODE2, 0), twoLeft)));
    assertEquals(region3, await(allocation.allocateShard(region1, "17", twoLeft)), "an id without a home likewise");
  }

  @Test
  void aNodeThatIsNotUpGetsNoShardsNotEvenItsOwn() throws Exception {
    membership = new MessageShards.HomeAllocation.Membership(Set.of(NODE1, NODE3), false); // node 2 is leaving
    var all = regions(Map.entry(region1, List.of("a")), Map.entry(region2, List.of()), Map.entry(region3, List.of()));
    assertEquals(region3, await(allocation.allocateShard(region2, shardHomedAt(NODE2, 3), all)));
    var away = regions(Map.entry(region1, List.of(shardHomedAt(NODE2, 4))), Map.entry(region2, List.of()));
    assertEquals(Set.of(), await(allocation.rebalance(away, Set.of())), "nothing moves while the membership changes");
  }

  @Test
  void shardsAwayFromAHomeThatIsUpGoBackToIt() throws Exception {
    var homeBack = shardHomedAt(NODE2, 5);
    var homeStillGone = shardHomedAt(new Address("pekko", "mta", "10.0.0.9", 25520), 5);
    var atHome = shardHomedAt(NODE1, 1);
    var all = regions(Map.entry(region1, List.of(homeBack, homeStillGone, atHome, "17")), Map.entry(region2, List.of()),
        Map.entry(region3, List.of(shardHomedAt(NODE1, 2))));
    assertEquals(Set.of(homeBack, shardHomedAt(NODE1, 2)), await(allocation.rebalance(all, Set.of())));
    assertEquals(Set.of(homeBack), await(allocation.rebalance(all, Set.of(shardHomedAt(NODE1, 2)))),
        "not one that is moving already");
  }
}

package mta.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import mta.management.Json;
import mta.management.ShardingStats;
import org.junit.jupiter.api.Test;

class CtlClusterTest {
  @Test
  void membersWithLeaderSelfAndUnreachable() {
    var members = Json.tree("""
        {"selfNode":"pekko://mta@10.0.0.1:25520","leader":"pekko://mta@10.0.0.1:25520",
         "members":[{"node":"pekko://mta@10.0.0.2:25520","nodeUid":"2","status":"Up","roles":["mail","dc-default"]},
                    {"node":"pekko://mta@10.0.0.1:25520","nodeUid":"1","status":"Up","roles":["mail","dc-default"]}],
         "unreachable":[{"node":"pekko://mta@10.0.0.2:25520","observedBy":["pekko://mta@10.0.0.1:25520"]}]}
        """);
    assertEquals("""
        MEMBER                      STATUS  ROLES
        pekko://mta@10.0.0.1:25520  Up      dc-default,mail  leader, this node
        pekko://mta@10.0.0.2:25520  Up      dc-default,mail  UNREACHABLE
        leader: pekko://mta@10.0.0.1:25520
        unreachable: pekko://mta@10.0.0.2:25520
        """, CtlCluster.members(members));
  }

  @Test
  void eventsInALine() {
    assertEquals("MemberUp pekko://mta@10.0.0.1:25520 Up [dc-default, mail]", CtlCluster.event(Json.tree("""
        {"type":"MemberUp","member":{"uniqueAddress":{"address":"pekko://mta@10.0.0.1:25520","longUid":1},
         "status":"Up","roles":["mail","dc-default"],"dataCenter":"default"}}""")));
    assertEquals("RoleLeaderChanged role mail pekko://mta@10.0.0.1:25520", CtlCluster.event(Json.tree("""
        {"type":"RoleLeaderChanged","role":"mail","address":"pekko://mta@10.0.0.1:25520"}""")));
    assertEquals("LeaderChanged none", CtlCluster.event(Json.tree("{\"type\":\"LeaderChanged\"}")));
  }

  @Test
  void regionStatsPerNode() {
    var stats = new ShardingStats("Message", List.of(
        new ShardingStats.Region("pekko://mta@10.0.0.1:25520", 2, 7, Map.of("1", 3, "2", 4), List.of()),
        new ShardingStats.Region("pekko://mta@10.0.0.2:25520", 1, 1, Map.of("3", 1), List.of("4"))));
    assertEquals("""
        NODE                        SHARDS  ENTITIES
        pekko://mta@10.0.0.1:25520       2         7
        pekko://mta@10.0.0.2:25520       1         1
        shards that did not answer: 4
        """, CtlCluster.regionStats(stats));
  }
}

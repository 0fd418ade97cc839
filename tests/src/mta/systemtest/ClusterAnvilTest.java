package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-client limits hold for the cluster, not per node: with a connection count limit of 2 and
 * a message rate limit of 2, a client with one session on each of two nodes is refused a third
 * on either, and its third MAIL is refused although each node has seen fewer.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterAnvilTest extends ClusterTestSupport {
  private static final String NO_ANSWER = "warning: anvil: no answer";

  @Test
  void limitsHoldAcrossNodes() {
    Cluster cluster = startCluster("mta_it_cluster_anvil", 2, b -> b
        .set("mta.smtpd_client_event_limit_exceptions", List.of())
        .set("mta.smtpd_client_connection_count_limit", 2)
        .set("mta.smtpd_client_message_rate_limit", 2));
    NodeProcess node1 = cluster.node(0);
    NodeProcess node2 = cluster.node(1);
    primeAnvil(cluster);

    try (SmtpClient c1 = connectOnceFree(node1); SmtpClient c2 = connectOnceFree(node2)) {
      assertEquals(220, c1.greeting().code(), c1.greeting()::toString);
      assertEquals(220, c2.greeting().code(), c2.greeting()::toString);
      try (SmtpClient c3 = SmtpClient.connect(node2.smtpPort())) {
        assertEquals("421 4.7.0 node2.test Error: too many connections from 127.0.0.1", c3.greeting().toString().strip());
      }
      node2.awaitLog("warning: Connection concurrency limit exceeded: 3 from \\S+\\[127\\.0\\.0\\.1\\] for service smtp",
          Duration.ofSeconds(10));
      // What mtactl cluster sharding region-stats Anvil shows: one client address, one entity.
      var anvilShards = cluster.regionsWithEntities("Anvil");
      assertEquals(1, anvilShards.values().stream().mapToInt(Set::size).sum(), anvilShards::toString);

      c1.ehlo("client.example");
      c2.ehlo("client.example");
      assertEquals(250, c1.command("MAIL FROM:<a@client.example>").code());
      assertEquals(250, c2.command("MAIL FROM:<a@client.example>").code());
      c1.command("RSET");
      assertEquals("450 4.7.1 Error: too much mail from 127.0.0.1", c1.command("MAIL FROM:<a@client.example>").toString().strip());
      node1.awaitLog("warning: Message delivery request rate limit exceeded: 3 from \\S+\\[127\\.0\\.0\\.1\\] for service smtp",
          Duration.ofSeconds(10));
    }
    assertEquals(0, node1.countLog(NO_ANSWER) + node2.countLog(NO_ANSWER) - primingMisses,
        "anvil answered every ask after priming");
    report("connection count and message rate limits held across 2 nodes");
  }

  private int primingMisses;

  /**
   * A session greeted 220. Earlier sessions leave anvil's count when the entity sees their
   * session actors stop, a moment after QUIT (longer while a shard is still being allocated,
   * and the entity may sit on the other node): until then a new one may be one too many.
   */
  private static SmtpClient connectOnceFree(NodeProcess node) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      SmtpClient c = SmtpClient.connect(node.smtpPort());
      if (c.greeting().code() == 220 || System.nanoTime() > deadline) return c;
      c.close();
      Ports.sleep(200);
    }
  }

  /**
   * The first ask of each node finds the Anvil shard through the coordinator; until then a
   * session may carry on without limits (fail open). Connect and quit until every node's ask
   * is answered, without any MAIL, so the limits start from zero.
   */
  private void primeAnvil(Cluster cluster) {
    for (int round = 0; round < 10; round++) {
      int before = cluster.nodes().stream().mapToInt(n -> n.countLog(NO_ANSWER)).sum();
      for (NodeProcess node : cluster.nodes()) {
        try (SmtpClient c = connectOnceFree(node)) {
          assertEquals(220, c.greeting().code(), c.greeting()::toString);
          c.command("QUIT");
        }
      }
      primingMisses = cluster.nodes().stream().mapToInt(n -> n.countLog(NO_ANSWER)).sum();
      if (primingMisses == before) return;
    }
    throw new AssertionError("anvil never answered in time:\n" + cluster.node(0).tail(40));
  }
}

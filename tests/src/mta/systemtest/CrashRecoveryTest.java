package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "250 queued" is a promise (RFC 5321 4.1.1.4): with the next hop down, N messages are accepted,
 * the node is killed with kill -9 right after the last 250, the next hop comes up, the node is
 * started again on the same data directory, and all N arrive (duplicates would be tolerated,
 * at-least-once; loss is not).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CrashRecoveryTest extends SystemTestSupport {
  private static final int N = 20;

  @Test
  void acceptedMailSurvivesKillMinus9() {
    acceptRestartDeliver("crash", true);
  }

  /** The same with a graceful stop (SIGTERM): the queue must survive an ordinary restart too. */
  @Test
  void acceptedMailSurvivesGracefulRestart() {
    acceptRestartDeliver("restart", false);
  }

  private void acceptRestartDeliver(String name, boolean kill9) {
    int port = Ports.free(); // the next hop is down while the node accepts
    NodeProcess node = startNode(node(name).fastRetry().relayhost(port));

    List<String> ids = new ArrayList<>();
    try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
      c.ehlo("client.test");
      for (int i = 0; i < N; i++) {
        String id = uniqueId("crash-" + i);
        SmtpClient.Reply r = c.send("sender@client.test", List.of("r" + i + "@remote.example"),
            SmtpClient.message("sender@client.test", "r" + i + "@remote.example", id, "crash " + i, 1_500));
        assertEquals(250, r.code(), () -> "message " + ids.size() + ": " + r);
        ids.add(id);
      }
    }
    if (kill9) {
      node.kill();
    } else {
      int code = node.stop(Duration.ofSeconds(30));
      assertTrue(code == 0 || code == 143, () -> "a clean exit within 30 s of SIGTERM, not " + code + "\n" + node.tail(30));
    }
    assertFalse(node.isAlive());

    SmtpSink sink = sinkOn(port);
    node.start().awaitReady(NodeProcess.READY_TIMEOUT);
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    List<String> missing = ids;
    while (System.nanoTime() < deadline) {
      List<String> messages = sink.messages();
      missing = ids.stream().filter(id -> messages.stream().noneMatch(m -> m.contains(id))).toList();
      if (missing.isEmpty()) break;
      Ports.sleep(500);
    }
    List<String> lost = missing;
    assertEquals(List.of(), lost, () -> lost.size() + " of " + N + " accepted messages were lost\n" + node.tail(60));
    int duplicates = sink.count() - N;
    System.out.println("CrashRecoveryTest: " + N + " delivered after " + (kill9 ? "kill -9" : "SIGTERM")
        + " and restart, " + duplicates + " duplicate(s)");
  }
}

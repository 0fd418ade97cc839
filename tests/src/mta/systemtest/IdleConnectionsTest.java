package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 500 clients connect, take their greeting and say nothing more, while smtp-source sends real
 * mail through the same node; then the node's session limit (default_process_limit) turns
 * further clients away with 421 4.3.2 instead of growing.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class IdleConnectionsTest extends SystemTestSupport {
  private static final int IDLE = 500;
  private static final int PROCESS_LIMIT = 520;
  private static final int MESSAGES = 200;

  @Test
  void idleConnectionsDoNotStopMailAndTheSessionLimitHolds() throws IOException {
    SmtpSink sink = sink();
    NodeProcess node = startNode(node("idle").relayhost(sink.port()).set("mta.default_process_limit", PROCESS_LIMIT));
    List<Socket> idle = new ArrayList<>();
    try {
      long t = System.nanoTime();
      for (int i = 0; i < IDLE; i++) {
        Socket s = connect(node.smtpPort());
        idle.add(s);
        String greeting = readLine(s.getInputStream());
        assertTrue(greeting.startsWith("220 "), "idle client " + i + " got: " + greeting);
      }
      System.out.printf("[IdleConnectionsTest] %d idle sessions open after %d ms%n", IDLE, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));

      t = System.nanoTime();
      Exec.Result sent = SmtpSource.run(node.smtpPort(), Duration.ofSeconds(90),
          "-m", String.valueOf(MESSAGES), "-s", "5", "-f", "alice@client.test", "-t", "bob@remote.example", "-S", "idle");
      assertTrue(sent.ok(), sent::toString);
      long submitted = System.nanoTime();
      sink.awaitCount(MESSAGES, DELIVERY);
      System.out.printf("[IdleConnectionsTest] with %d idle sessions: %d messages accepted in %d ms, all at the sink after %d ms%n",
          IDLE, MESSAGES, TimeUnit.NANOSECONDS.toMillis(submitted - t), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));

      // smtp-source's sessions are gone; 20 more fit, then the limit answers.
      Ports.sleep(500);
      int accepted = 0;
      String refusal = null;
      for (int i = 0; i < PROCESS_LIMIT - IDLE + 5 && refusal == null; i++) {
        Socket s = connect(node.smtpPort());
        idle.add(s);
        String reply = readLine(s.getInputStream());
        if (reply.startsWith("220 ")) accepted++;
        else refusal = reply;
      }
      assertEquals("421 4.3.2 All server ports are busy", refusal, "after " + accepted + " more sessions");
      assertEquals(PROCESS_LIMIT - IDLE, accepted, "sessions allowed up to the limit");
      node.awaitLog("warning: smtpd process limit " + PROCESS_LIMIT + " reached \\(" + PROCESS_LIMIT + " sessions\\)", Duration.ofSeconds(10));
    } finally {
      for (Socket s : idle) s.close();
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    s.setSoTimeout(20_000);
    return s;
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') b.append((char) c);
    return b.toString().strip();
  }
}

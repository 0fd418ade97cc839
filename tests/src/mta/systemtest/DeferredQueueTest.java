package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The deferred queue costs journal rows, not heap: mail for a dead next hop is deferred
 * (minimal_backoff_time 20s, well beyond the 3s queue run), its Message entities leave memory,
 * the queue sizes are counted without waking them, and when the retry falls due the queue run
 * wakes every one of them by its due tag and the mail goes out. Once on the embedded journal,
 * once on PostgreSQL (the queue run's SQL must hold on both; there, the journal is checked
 * to be empty of them at the end).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DeferredQueueTest extends SystemTestSupport {
  private static final int MESSAGES = 200;
  private static final Pattern ENTITIES = Pattern.compile("\"entities_per_shard\"\\s*:\\s*\\{([^}]*)\\}");
  private static final Pattern COUNT = Pattern.compile(":\\s*(\\d+)");

  @Test
  void onTheEmbeddedJournal() throws Exception {
    deferredMailSleepsThenGoesOut(node("deferred-h2"));
  }

  @Test
  void onPostgres() throws Exception {
    String schema = Postgres.freshSchema("deferred_queue");
    deferredMailSleepsThenGoesOut(node("deferred-pg").postgres(Postgres.url(schema)));
    // Delivered, so finished: the queue run removes their rows, found by their Completed events.
    awaitTrue(() -> Postgres.messageRows(schema) == 0, Duration.ofSeconds(15),
        () -> Postgres.messageRows(schema) + " journal rows of finished messages left");
  }

  private void deferredMailSleepsThenGoesOut(NodeProcess.Builder builder) throws Exception {
    int nextHop = Ports.free(); // nothing listens yet: connection refused
    int management = Ports.free();
    NodeProcess node = startNode(builder.relayhost(nextHop)
        .set("mta.minimal_backoff_time", "20s")
        .set("mta.maximal_backoff_time", "60s")
        .set("mta.queue_run_delay", "3s")
        .set("mta.management.queue_sample_interval", "1s")
        .set("mta.management.listen", "127.0.0.1:" + management));

    long t0 = System.nanoTime();
    var sent = SmtpSource.run(node.smtpPort(), Duration.ofSeconds(90), "-s", "5", "-m", Integer.toString(MESSAGES),
        "-l", "1000", "-f", "sender@client.test", "-t", "later@remote.example");
    assertTrue(sent.ok(), sent::toString);
    awaitTrue(() -> node.countLog("status=deferred") >= MESSAGES, Duration.ofSeconds(60),
        () -> node.countLog("status=deferred") + " of " + MESSAGES + " deferred");

    // Asleep: no Message entity stays in memory for the deferred mail, and /metrics counts it.
    awaitTrue(() -> messageEntities(management) == 0, Duration.ofSeconds(15),
        () -> messageEntities(management) + " Message entities still in memory");
    awaitTrue(() -> metric(management, "deferred") == MESSAGES, Duration.ofSeconds(15),
        () -> "mta_queue_messages: deferred " + metric(management, "deferred") + ", active " + metric(management, "active"));
    System.out.printf("DeferredQueueTest: %d deferred and asleep %.1f s after the first message%n", MESSAGES,
        (System.nanoTime() - t0) / 1e9);

    // Due: the queue run finds every message by its due tag, and it goes out.
    SmtpSink sink = sinkOn(nextHop);
    sink.awaitCount(MESSAGES, Duration.ofSeconds(60));
    awaitTrue(() -> node.countLog("status=sent") >= MESSAGES, Duration.ofSeconds(10),
        () -> node.countLog("status=sent") + " of " + MESSAGES + " logged sent");
    awaitTrue(() -> metric(management, "deferred") == 0, Duration.ofSeconds(15),
        () -> "deferred after delivery: " + metric(management, "deferred"));
    System.out.printf("DeferredQueueTest: all %d delivered %.1f s after the first message%n", MESSAGES,
        (System.nanoTime() - t0) / 1e9);
  }

  private static void awaitTrue(java.util.function.BooleanSupplier done, Duration timeout,
      java.util.function.Supplier<String> what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within " + timeout + ": " + what.get());
      Ports.sleep(250);
    }
  }

  /** Message entities in memory on this node (GET /sharding/Message). */
  private static int messageEntities(int port) {
    Matcher shards = ENTITIES.matcher(get(port, "/sharding/Message"));
    int n = 0;
    while (shards.find()) {
      Matcher c = COUNT.matcher(shards.group(1));
      while (c.find()) n += Integer.parseInt(c.group(1));
    }
    return n;
  }

  /** The mta_queue_messages gauge of {@code queue} from /metrics. */
  private static long metric(int port, String queue) {
    Matcher m = Pattern.compile("(?m)^mta_queue_messages\\{queue=\"" + queue + "\"\\} ([0-9.]+)").matcher(get(port, "/metrics"));
    assertTrue(m.find(), "no mta_queue_messages for " + queue);
    return (long) Double.parseDouble(m.group(1));
  }

  private static String get(int port, String path) {
    try (HttpClient http = HttpClient.newHttpClient()) {
      var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), () -> path + ": " + r.body());
      return r.body();
    } catch (IOException e) {
      throw new AssertionError(path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(path, e);
    }
  }
}

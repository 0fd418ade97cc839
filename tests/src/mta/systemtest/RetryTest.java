package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Temporary failures are retried: the next hop first answers RCPT with 450 4.3.0 (smtp-sink
 * -r RCPT), or is not there at all; the node logs status=deferred, and once the next hop is well
 * it delivers on a later queue run (minimal_backoff_time 2s, queue_run_delay 2s).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RetryTest extends SystemTestSupport {
  private static final Duration RETRIED = Duration.ofSeconds(90);

  @Test
  void deferredOn4xxThenSentAfterRetry() {
    int port = Ports.free();
    SmtpSink failing = sinkOn(port, "-r", "RCPT");
    NodeProcess node = startNode(node("retry").fastRetry().relayhost(port));

    String id = uniqueId("retry-4xx");
    Swaks.Result r = Swaks.to(node.smtpPort(), "later@remote.example").messageId(id).run();
    assertTrue(r.accepted(), r::toString);
    Matcher deferred = node.awaitLog(deliveryLine(r.queueId(), "later@remote.example", port, "deferred"), DELIVERY);
    assertTrue(deferred.group().contains("450"), () -> "the 4xx reply is quoted: " + deferred.group());
    long afterDeferred = deferred.end();

    failing.stop();
    SmtpSink healthy = sinkOn(port);
    node.awaitLog(deliveryLine(r.queueId(), "later@remote.example", port, "sent"), RETRIED, afterDeferred);
    healthy.awaitContaining(id, 1, DELIVERY);
    assertTrue(failing.countContaining(id) == 0, "the failing sink accepted nothing");
  }

  @Test
  void deferredWhileNextHopIsDownThenSent() {
    int port = Ports.free(); // nothing listens here yet: connection refused
    NodeProcess node = startNode(node("retry-down").fastRetry().relayhost(port));

    String id = uniqueId("retry-down");
    Swaks.Result r = Swaks.to(node.smtpPort(), "later@remote.example").messageId(id).run();
    assertTrue(r.accepted(), r::toString);
    Matcher deferred = node.awaitLog(deliveryLine(r.queueId(), "later@remote.example", null, "deferred"), DELIVERY);

    SmtpSink sink = sinkOn(port);
    node.awaitLog(deliveryLine(r.queueId(), "later@remote.example", port, "sent"), RETRIED, deferred.end());
    sink.awaitContaining(id, 1, DELIVERY);
  }
}

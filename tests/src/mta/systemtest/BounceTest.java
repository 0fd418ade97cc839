package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A permanent failure is final: the next hop answers RCPT with 500 5.3.0 (smtp-sink -f RCPT),
 * the node logs status=bounced with dsn=5.x.x, does not retry, and nothing reaches the sink.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BounceTest extends SystemTestSupport {

  @Test
  void permanentFailureBounces() {
    SmtpSink rejecting = sink("-f", "RCPT");
    NodeProcess node = startNode(node("bounce").fastRetry().relayhost(rejecting.port()));

    String id = uniqueId("bounce");
    Swaks.Result r = Swaks.to(node.smtpPort(), "nobody@remote.example").messageId(id).run();
    assertTrue(r.accepted(), r::toString);
    Matcher bounced = node.awaitLog(
        deliveryLine(r.queueId(), "nobody@remote.example", rejecting.port(), "bounced"), DELIVERY);
    assertTrue(bounced.group().contains("dsn=5."), () -> "dsn=5.x.x: " + bounced.group());
    assertTrue(bounced.group().contains("500"), () -> "the 5xx reply is quoted: " + bounced.group());

    // Give retries a chance to (wrongly) happen: 3 queue runs. By the message's id, not by
    // count(): the bounce notice to the sender goes to the same sink and is rejected there
    // too, and its session leaves a dump file for a moment (see SmtpSink.count()).
    holdsFor(Duration.ofSeconds(6), () -> rejecting.countContaining(id) == 0, "a rejected message reached the sink");
    assertEquals(0, node.countLog(deliveryLine(r.queueId(), "nobody@remote.example", null, "deferred")),
        () -> "a 5xx is not retried\n" + node.tail(40));
    assertEquals(1, node.countLog(deliveryLine(r.queueId(), "nobody@remote.example", null, "bounced")),
        () -> "one bounce\n" + node.tail(40));
  }
}

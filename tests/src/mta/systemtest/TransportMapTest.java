package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** transport_maps = texthash:FILE routes each domain to its own next hop: two sinks, two domains. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TransportMapTest extends SystemTestSupport {

  @Test
  void eachDomainGoesToItsOwnNextHop() throws IOException {
    SmtpSink alpha = sink();
    SmtpSink beta = sink();
    Path transport = dir.resolve("transport");
    Files.writeString(transport, """
        # domain        transport:nexthop
        alpha.test      smtp:[127.0.0.1]:%d
        beta.test       smtp:[127.0.0.1]:%d
        """.formatted(alpha.port(), beta.port()));
    NodeProcess node = startNode(node("router").set("mta.transport_maps", List.of("texthash:" + transport)));

    String toAlpha = uniqueId("alpha");
    String toBeta = uniqueId("beta");
    String toBoth = uniqueId("both");
    Swaks.Result a = Swaks.to(node.smtpPort(), "ann@alpha.test").messageId(toAlpha).run();
    Swaks.Result b = Swaks.to(node.smtpPort(), "bob@beta.test").messageId(toBeta).run();
    Swaks.Result both = Swaks.to(node.smtpPort(), "cid@alpha.test", "dan@beta.test").messageId(toBoth).run();
    for (Swaks.Result r : List.of(a, b, both)) assertTrue(r.accepted(), r::toString);

    alpha.awaitContaining(toAlpha, 1, DELIVERY);
    beta.awaitContaining(toBeta, 1, DELIVERY);
    alpha.awaitContaining(toBoth, 1, DELIVERY);
    beta.awaitContaining(toBoth, 1, DELIVERY);
    node.awaitLog(deliveryLine(a.queueId(), "ann@alpha.test", alpha.port(), "sent"), DELIVERY);
    node.awaitLog(deliveryLine(b.queueId(), "bob@beta.test", beta.port(), "sent"), DELIVERY);
    node.awaitLog(deliveryLine(both.queueId(), "cid@alpha.test", alpha.port(), "sent"), DELIVERY);
    node.awaitLog(deliveryLine(both.queueId(), "dan@beta.test", beta.port(), "sent"), DELIVERY);

    Ports.sleep(1_000); // anything misrouted would have arrived by now, too
    assertEquals(0, alpha.countContaining(toBeta), "beta.test mail must not reach alpha's next hop");
    assertEquals(0, beta.countContaining(toAlpha), "alpha.test mail must not reach beta's next hop");
    String bothAtAlpha = alpha.messages().stream().filter(m -> m.contains(toBoth)).findFirst().orElseThrow();
    String bothAtBeta = beta.messages().stream().filter(m -> m.contains(toBoth)).findFirst().orElseThrow();
    assertTrue(bothAtAlpha.contains("X-Rcpt-Args: <cid@alpha.test>") && !bothAtAlpha.contains("X-Rcpt-Args: <dan@beta.test>"),
        () -> "alpha gets only its recipient:\n" + bothAtAlpha);
    assertTrue(bothAtBeta.contains("X-Rcpt-Args: <dan@beta.test>") && !bothAtBeta.contains("X-Rcpt-Args: <cid@alpha.test>"),
        () -> "beta gets only its recipient:\n" + bothAtBeta);
    assertEquals(2, alpha.count(), "alpha holds exactly its two messages");
    assertEquals(2, beta.count(), "beta holds exactly its two messages");
  }
}

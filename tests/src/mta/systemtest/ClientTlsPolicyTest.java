package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * smtp_tls_policy_maps with real peers (the default level stays may): encrypt toward an
 * smtp-sink, which has no STARTTLS, defers; verify toward a Postfix whose certificate lacks
 * the expected name, and secure toward one whose certificate the CA file does not vouch for,
 * defer; may toward a Postfix with which no TLS protocol is in
 * common falls back to plaintext and delivers, and encrypt toward the same host defers.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClientTlsPolicyTest extends SystemTestSupport {

  private NodeProcess edge(int relayPort, Path policy, String... more) {
    NodeProcess.Builder b = node("edge").relayhost(relayPort).set("mta.smtp_tls_policy_maps", List.of("texthash:" + policy));
    for (int i = 0; i < more.length; i += 2) b.set(more[i], more[i + 1]);
    return startNode(b);
  }

  private static String send(NodeProcess node, String id) {
    Swaks.Result swaks = Swaks.to(node.smtpPort(), "far@remote.example").messageId(id).run();
    assertTrue(swaks.accepted(), swaks::toString);
    return swaks.queueId();
  }

  @Test
  void encryptTowardAPlaintextHostDefers() throws IOException {
    SmtpSink sink = sink();
    Path policy = dir.resolve("tls_policy");
    Files.writeString(policy, "[127.0.0.1]:" + sink.port() + " encrypt\n");
    NodeProcess node = edge(sink.port(), policy);
    String queueId = send(node, uniqueId("encrypt"));
    var deferred = node.awaitLog(deliveryLine(queueId, "far@remote.example", sink.port(), "deferred"), DELIVERY).group();
    assertTrue(deferred.contains("dsn=4.7.4"), deferred);
    assertTrue(deferred.contains("(TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]:" + sink.port() + ")"), deferred);
    assertEquals(0, sink.count());
  }

  @Test
  void verifyDefersOnAnUntrustedChainOrAWrongName() throws IOException {
    SmtpSink sink = sink();
    Path[] trusted = TlsTest.certificate(Files.createDirectories(dir.resolve("trusted")), "smarthost.test");
    Path[] untrusted = TlsTest.certificate(Files.createDirectories(dir.resolve("untrusted")), "smarthost.test");
    PostfixServer named = closeLater(PostfixServer.builder(dir, "smarthost.test", sink.port()).tls(trusted[0], trusted[1]).start());
    PostfixServer unknown = closeLater(PostfixServer.builder(dir, "smarthost.test", sink.port()).tls(untrusted[0], untrusted[1]).start());
    Path transport = dir.resolve("transport");
    Files.writeString(transport, "wrong-name.example smtp:[127.0.0.1]:" + named.port() + "\n"
        + "wrong-ca.example smtp:[127.0.0.1]:" + unknown.port() + "\n");
    Path policy = dir.resolve("tls_policy");
    Files.writeString(policy, "[127.0.0.1]:" + named.port() + " verify match=other.test:.other.test\n"
        + "[127.0.0.1]:" + unknown.port() + " secure match=smarthost.test\n");
    NodeProcess node = startNode(node("edge").set("mta.transport_maps", List.of("texthash:" + transport))
        .set("mta.smtp_tls_policy_maps", List.of("texthash:" + policy)).set("mta.smtp_tls_CAfile", trusted[0].toString()));

    Swaks.Result wrongName = Swaks.to(node.smtpPort(), "rcpt@wrong-name.example").messageId(uniqueId("wrong-name")).run();
    Swaks.Result wrongCa = Swaks.to(node.smtpPort(), "rcpt@wrong-ca.example").messageId(uniqueId("wrong-ca")).run();
    assertTrue(wrongName.accepted() && wrongCa.accepted(), () -> wrongName + "\n" + wrongCa);
    var notVerified = node.awaitLog(deliveryLine(wrongName.queueId(), "rcpt@wrong-name.example", named.port(), "deferred"), DELIVERY).group();
    assertTrue(notVerified.contains("dsn=4.7.5, status=deferred (Server certificate not verified: 127.0.0.1[127.0.0.1]:"
        + named.port() + " presented [smarthost.test], expected other.test or .other.test)"), notVerified);
    var untrustedChain = node.awaitLog(deliveryLine(wrongCa.queueId(), "rcpt@wrong-ca.example", unknown.port(), "deferred"), DELIVERY).group();
    assertTrue(untrustedChain.contains("dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure"), untrustedChain);
    assertEquals(0, sink.count());
  }

  @Test
  void mayFallsBackToPlaintextWhenTheHandshakeFailsAndEncryptDefers() throws IOException {
    SmtpSink sink = sink();
    Path[] files = TlsTest.certificate(dir, "broken.test");
    // Postfix speaks TLS 1.3 only; the policy lets our client offer TLS 1.2 only: STARTTLS is
    // offered and accepted, and every handshake fails.
    PostfixServer postfix = closeLater(PostfixServer.builder(dir, "broken.test", sink.port()).tls(files[0], files[1])
        .set("smtpd_tls_protocols", ">=TLSv1.3").start());
    Path policy = dir.resolve("tls_policy");
    String nexthop = "[127.0.0.1]:" + postfix.port();
    Files.writeString(policy, nexthop + " may protocols=TLSv1.2\n");
    NodeProcess node = edge(postfix.port(), policy, "mta.smtp_connection_cache_time_limit", "1s");

    String first = uniqueId("may-fallback");
    String queueId = send(node, first);
    node.awaitLog(deliveryLine(queueId, "far@remote.example", postfix.port(), "sent"), DELIVERY);
    node.awaitLog("TLS handshake with 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + postfix.port() + " failed", Duration.ofSeconds(5));
    node.awaitLog("TLS level may: trying again without TLS", Duration.ofSeconds(5));
    sink.awaitContaining(first, 1, DELIVERY);

    Files.writeString(policy, nexthop + " encrypt protocols=TLSv1.2\n");
    String second = send(node, uniqueId("encrypt-broken"));
    var deferred = node.awaitLog(deliveryLine(second, "far@remote.example", postfix.port(), "deferred"), DELIVERY).group();
    assertTrue(deferred.contains("dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure"), deferred);
    assertEquals(1, sink.count());
  }

  /**
   * A TLS downgrade: a man in the middle strips STARTTLS from a TLS-capable Postfix's EHLO reply
   * (the classic "250-XXXXXXXA" rewrite). Under {@code encrypt} the client notices that TLS is
   * missing and defers; nothing goes out in plaintext.
   */
  @Test
  void encryptDefersWhenAManInTheMiddleStripsStarttls() throws IOException {
    SmtpSink sink = sink();
    Path[] files = TlsTest.certificate(dir, "smarthost.test");
    PostfixServer postfix = closeLater(PostfixServer.builder(dir, "smarthost.test", sink.port()).tls(files[0], files[1]).start());
    TcpProxy mitm = closeLater(TcpProxy.rewriting("127.0.0.1", postfix.port(), s -> s.replace("STARTTLS", "XXXXXXXA")));
    Path policy = dir.resolve("tls_policy");
    Files.writeString(policy, "[127.0.0.1]:" + mitm.port() + " encrypt\n");
    NodeProcess node = edge(mitm.port(), policy);
    String queueId = send(node, uniqueId("stripped"));
    var deferred = node.awaitLog(deliveryLine(queueId, "far@remote.example", mitm.port(), "deferred"), DELIVERY).group();
    assertTrue(deferred.contains("dsn=4.7.4"), deferred);
    assertTrue(deferred.contains("TLS is required, but was not offered"), deferred);
    assertTrue(mitm.connections() > 0, "the client went through the man in the middle");
    assertEquals(0, sink.count(), "nothing was relayed in plaintext");
  }
}

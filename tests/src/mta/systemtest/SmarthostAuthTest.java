package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Client SMTP AUTH toward a real smarthost: Postfix's smtpd requiring TLS and AUTH, its users
 * checked by Dovecot, relaying on to an smtp-sink. A wrong password is deferred with the
 * server's 535 text (smtp_sasl_auth_soft_bounce); the right one, read from the reloaded
 * password table, delivers on the retry, over a verified TLS session. And a server that
 * offers AUTH without TLS never gets the password (noplaintext): the mail waits.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SmarthostAuthTest extends SystemTestSupport {

  @Test
  void wrongPasswordDefersWithThe535TextAndTheRightOneDelivers() throws IOException {
    SmtpSink sink = sink();
    DovecotAuth dovecot = closeLater(DovecotAuth.start(dir, Map.of("relayuser", "goodpass")));
    Path[] files = TlsTest.certificate(dir, "smarthost.test");
    PostfixServer smarthost = closeLater(PostfixServer.builder(dir, "smarthost.test", sink.port())
        .tls(files[0], files[1]).saslVia(dovecot).start());
    String nexthop = "[127.0.0.1]:" + smarthost.port();
    Path passwords = dir.resolve("sasl_passwd");
    Files.writeString(passwords, nexthop + " relayuser:nope\n");
    Path policy = dir.resolve("tls_policy");
    Files.writeString(policy, nexthop + " verify match=smarthost.test\n");
    NodeProcess node = startNode(node("edge").relayhost(smarthost.port()).fastRetry()
        .set("mta.smtp_sasl_auth_enable", true)
        .set("mta.smtp_sasl_password_maps", List.of("texthash:" + passwords))
        .set("mta.smtp_tls_policy_maps", List.of("texthash:" + policy))
        .set("mta.smtp_tls_CAfile", files[0].toString()));

    String id = uniqueId("smarthost-auth");
    Swaks.Result swaks = Swaks.to(node.smtpPort(), "far@remote.example").messageId(id).run();
    assertTrue(swaks.accepted(), swaks::toString);
    String queueId = swaks.queueId();

    var deferred = node.awaitLog(deliveryLine(queueId, "far@remote.example", smarthost.port(), "deferred"), DELIVERY).group();
    assertTrue(deferred.contains("dsn=4.7.8"), deferred);
    assertTrue(deferred.contains("(SASL authentication failed; server 127.0.0.1[127.0.0.1]:" + smarthost.port()
        + " said: 535 5.7.8 Error: authentication failed"), deferred);
    node.awaitLog("sasl_method=PLAIN, sasl_username=relayuser: SASL authentication failed", Duration.ofSeconds(5));
    smarthost.awaitLog("SASL PLAIN authentication failed: .*sasl_username=relayuser", Duration.ofSeconds(5));
    assertEquals(0, sink.countContaining(id));

    Files.writeString(passwords, nexthop + " relayuser:goodpass\n");
    node.awaitLog(deliveryLine(queueId, "far@remote.example", smarthost.port(), "sent"), DELIVERY);
    node.awaitLog("Verified TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + smarthost.port()
        + ": TLSv1\\.3 with cipher", Duration.ofSeconds(5));
    node.awaitLog("SASL authentication succeeded: sasl_method=PLAIN, sasl_username=relayuser", Duration.ofSeconds(5));
    smarthost.awaitLog("client=localhost\\[127\\.0\\.0\\.1\\], sasl_method=PLAIN, sasl_username=relayuser", Duration.ofSeconds(5));
    sink.awaitContaining(id, 1, DELIVERY);
  }

  @Test
  void noPasswordOverPlaintext() throws IOException {
    SmtpSink sink = sink();  // smtp-sink offers AUTH PLAIN LOGIN, and no STARTTLS
    Path passwords = dir.resolve("sasl_passwd");
    Files.writeString(passwords, "[127.0.0.1]:" + sink.port() + " relayuser:secret-not-to-leak\n");
    NodeProcess node = startNode(node("edge").relayhost(sink.port())
        .set("mta.smtp_sasl_auth_enable", true)
        .set("mta.smtp_sasl_password_maps", List.of("texthash:" + passwords)));
    Swaks.Result swaks = Swaks.to(node.smtpPort(), "far@remote.example").messageId(uniqueId("plain-auth")).run();
    assertTrue(swaks.accepted(), swaks::toString);
    var deferred = node.awaitLog(deliveryLine(swaks.queueId(), "far@remote.example", sink.port(), "deferred"), DELIVERY).group();
    assertTrue(deferred.contains("dsn=4.7.0, status=deferred (SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]:"
        + sink.port() + ": no mechanism available)"), deferred);
    node.awaitLog("sasl_username=relayuser: SASL authentication failed; .* \\(the server offers LOGIN PLAIN; "
        + "smtp_sasl_security_options allows \\[\\]\\)", Duration.ofSeconds(5));
    assertEquals(0, sink.count());
  }
}

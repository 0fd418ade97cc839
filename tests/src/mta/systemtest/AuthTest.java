package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * SMTP AUTH with swaks: PLAIN and LOGIN under STARTTLS against a bcrypt texthash table,
 * permit_sasl_authenticated letting the user relay, 535 for a wrong password, no AUTH in
 * plaintext (smtpd_tls_auth_only), and the submission port wanting AUTH before MAIL.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AuthTest extends SystemTestSupport {

  @Test
  void authenticatedUsersRelayOthersDoNot() throws IOException {
    SmtpSink sink = sink();
    Path[] cert = TlsTest.certificate(dir, "auth.test");
    Path users = dir.resolve("sasl_passwd");
    Files.writeString(users, "# user  bcrypt hash\nalice  {bcrypt}" + BCrypt.hashpw("secret", BCrypt.gensalt(6)) + "\n");
    int submission = Ports.free();
    NodeProcess node = startNode(node("auth").relayhost(sink.port())
        .set("mta.mynetworks", List.of())
        .set("mta.smtpd_tls_security_level", "may")
        .set("mta.smtpd_tls_cert_file", cert[0].toString())
        .set("mta.smtpd_tls_key_file", cert[1].toString())
        .set("mta.smtpd_sasl_password_maps", List.of("texthash:" + users))
        .set("mta.listen.submission", "127.0.0.1:" + submission));

    String id = uniqueId("auth");
    Swaks.Result plain = Swaks.to(node.smtpPort(), "far@remote.example").messageId(id)
        .option("--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret").run();
    assertTrue(TlsTest.queuedUnderTls(plain), plain::toString);
    node.awaitLog(": client=.*\\[127\\.0\\.0\\.1\\], sasl_method=PLAIN, sasl_username=alice", Duration.ofSeconds(10));
    sink.awaitContaining(id, 1, DELIVERY);
    String message = sink.messages().stream().filter(m -> m.contains(id)).findFirst().orElseThrow();
    assertTrue(message.contains("(Authenticated sender: alice)") && message.contains("with ESMTPSA id"), message);

    Swaks.Result wrong = Swaks.to(node.smtpPort(), "far@remote.example")
        .option("--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "guess").run();
    assertTrue(wrong.transcript().contains("535 5.7.8 Error: authentication failed"), wrong::toString);

    Swaks.Result anonymous = Swaks.to(node.smtpPort(), "far@remote.example").option("--tls").run();
    assertTrue(anonymous.transcript().contains("Relay access denied"), anonymous::toString);

    Swaks.Result cleartext = Swaks.to(node.smtpPort(), "far@remote.example").option("--quit-after", "EHLO").run();
    assertTrue(!cleartext.transcript().contains("AUTH"), "no AUTH before STARTTLS\n" + cleartext);

    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Ports.listening(submission) && System.nanoTime() < deadline) Ports.sleep(200);
    Swaks.Result unauthenticated = Swaks.to(submission, "far@remote.example").option("--tls", "--quit-after", "MAIL").run();
    assertTrue(unauthenticated.transcript().contains("530 5.7.0 Authentication required"), unauthenticated::toString);
    Swaks.Result login = Swaks.to(submission, "far@remote.example")
        .option("--tls", "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "secret").run();
    assertTrue(TlsTest.queuedUnderTls(login), login::toString);
  }
}

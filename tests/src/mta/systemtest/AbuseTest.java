package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * A client that abuses the node, from outside mynetworks and without limit exceptions: talking
 * before the greeting (pregreet test), one endless header line, one header folded on and on,
 * more connections, messages and
 * AUTH attempts (swaks guessing passwords) than anvil allows. Each gets Postfix's reply and
 * warning line, and the node goes on serving.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AbuseTest extends SystemTestSupport {
  private static final int CONNECTIONS = 3;
  private static final int MESSAGES = 3;
  private static final int AUTHS = 3;

  @Test
  void abusiveClientsMeetTheLimits() throws IOException {
    Path users = dir.resolve("sasl_passwd");
    Files.writeString(users, "alice  {bcrypt}" + BCrypt.hashpw("secret", BCrypt.gensalt(6)) + "\n");
    NodeProcess node = startNode(node("abuse")
        .set("mta.mynetworks", List.of())
        .set("mta.smtpd_client_event_limit_exceptions", List.of())
        .set("mta.smtpd_client_connection_count_limit", CONNECTIONS)
        .set("mta.smtpd_client_message_rate_limit", MESSAGES)
        .set("mta.smtpd_client_auth_rate_limit", AUTHS)
        .set("mta.postscreen_greet_wait", "1s")
        .set("mta.smtpd_tls_auth_only", "no")
        .set("mta.smtpd_sasl_password_maps", List.of("texthash:" + users)));

    // Pregreet: EHLO right after connect, inside the 1 s greet wait.
    try (Socket bot = new Socket()) {
      bot.connect(new InetSocketAddress("127.0.0.1", node.smtpPort()), 5_000);
      bot.setSoTimeout(10_000);
      bot.getOutputStream().write("EHLO bot.example\r\n".getBytes(StandardCharsets.US_ASCII));
      assertEquals("521 5.5.1 Protocol error", readAll(bot.getInputStream()).strip(), "no greeting, only the refusal");
    }
    node.awaitLog("PREGREET 18 after \\d+\\.\\d\\d from \\[127\\.0\\.0\\.1\\]:\\d+: EHLO bot\\.example\\\\r\\\\n", Duration.ofSeconds(10));

    // A patient client gets its greeting after the wait, and keeps the connection for what follows.
    try (SmtpClient first = SmtpClient.connect(node.smtpPort())) {
      assertEquals(220, first.greeting().code(), first.greeting()::toString);
      assertEquals(250, first.ehlo("client.example").code());

      // An endless header line: cut off with 554 5.6.0, although longer than message_size_limit.
      assertEquals(250, first.command("MAIL FROM:<a@client.example>").code());
      assertEquals(250, first.command("RCPT TO:<postmaster@localhost>").code());
      assertEquals(354, first.command("DATA").code());
      first.write("Subject: ");
      char[] chunk = new char[1 << 20];
      Arrays.fill(chunk, 'x');
      for (int i = 0; i < 12; i++) first.write(new String(chunk));
      first.write("\r\n\r\nbody\r\n.\r\n");
      SmtpClient.Reply cut = first.readReply();
      assertEquals("554 5.6.0 Error: message content line longer than 998 octets", cut.toString().strip(), cut::toString);
      assertEquals(250, first.command("RSET").code(), "the session goes on");

      // Endless headers: one field folded on for 200 KB passes header_size_limit (100 KB).
      assertEquals(250, first.command("MAIL FROM:<a@client.example>").code());
      assertEquals(250, first.command("RCPT TO:<postmaster@localhost>").code());
      assertEquals(354, first.command("DATA").code());
      first.write("X-Endless: start\r\n");
      String fold = "\t" + "y".repeat(98) + "\r\n";
      for (int i = 0; i < 2_000; i++) first.write(fold);
      first.write("\r\nbody\r\n.\r\n");
      SmtpClient.Reply folded = first.readReply();
      assertEquals("552 5.3.4 Error: message header size exceeds header_size_limit", folded.toString().strip(), folded::toString);

      // Connection count: two more are fine (their greeting comes at once now), the fourth is refused.
      List<SmtpClient> more = new ArrayList<>();
      try {
        for (int i = 1; i < CONNECTIONS; i++) {
          more.add(SmtpClient.connect(node.smtpPort()));
          assertEquals(220, more.getLast().greeting().code(), more.getLast().greeting()::toString);
        }
        try (SmtpClient extra = SmtpClient.connect(node.smtpPort())) {
          assertEquals("421 4.7.0 abuse.test Error: too many connections from 127.0.0.1", extra.greeting().toString().strip());
        }
      } finally {
        more.forEach(SmtpClient::close);
      }
      node.awaitLog("warning: Connection concurrency limit exceeded: 4 from \\S+\\[127\\.0\\.0\\.1\\] for service smtp",
          Duration.ofSeconds(10));

      // Message rate: the two DATAs above were the first MAILs of this minute.
      for (int i = 2; i < MESSAGES; i++) {
        assertEquals(250, first.command("MAIL FROM:<a@client.example>").code());
        assertEquals(250, first.command("RSET").code());
      }
      assertEquals("450 4.7.1 Error: too much mail from 127.0.0.1", first.command("MAIL FROM:<a@client.example>").toString().strip());
      node.awaitLog("warning: Message delivery request rate limit exceeded: 4 from \\S+\\[127\\.0\\.0\\.1\\] for service smtp",
          Duration.ofSeconds(10));
    }

    // Password guessing with swaks: three wrong guesses are answered, then AUTH is refused,
    // even with the right password, for the rest of the minute.
    for (int i = 0; i < AUTHS; i++) {
      Swaks.Result guess = Swaks.to(node.smtpPort(), "postmaster@localhost")
          .option("--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "guess" + i).run();
      assertTrue(guess.transcript().contains("535 5.7.8 Error: authentication failed"), guess::toString);
    }
    Swaks.Result right = Swaks.to(node.smtpPort(), "postmaster@localhost")
        .option("--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret").run();
    assertTrue(right.transcript().contains("450 4.7.1 Error: too many AUTH commands from 127.0.0.1"), right::toString);
    node.awaitLog("warning: AUTH command rate limit exceeded: 4 from \\S+\\[127\\.0\\.0\\.1\\] for service smtp", Duration.ofSeconds(10));
  }

  /** Everything the server sends until it closes the connection. */
  private static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
  }
}

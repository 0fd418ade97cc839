package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 2920 PIPELINING: a client writes MAIL, RCPT..., DATA in one go and the node answers each
 * in order; swaks --pipeline does the same; and smtp-source pushes 50 messages over 5
 * parallel sessions (smtp-source itself does not pipeline: man smtp-source, BUGS).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PipeliningTest extends SystemTestSupport {

  @Test
  void pipelinedCommandsAndParallelSessions() {
    SmtpSink sink = sink();
    NodeProcess node = startNode(node("pipes").relayhost(sink.port()));

    // 1. Two transactions in one session, each MAIL/RCPT/RCPT/DATA group written at once.
    String first = uniqueId("pipe1");
    String second = uniqueId("pipe2");
    try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
      assertEquals(220, c.greeting().code(), c.greeting()::text);
      SmtpClient.Reply ehlo = c.ehlo("client.test");
      assertEquals(250, ehlo.code());
      assertTrue(ehlo.lines().contains("PIPELINING"), () -> "EHLO advertises PIPELINING: " + ehlo);

      c.write("MAIL FROM:<sender@client.test>\r\nRCPT TO:<p1@remote.example>\r\n"
          + "RCPT TO:<p2@remote.example>\r\nDATA\r\n");
      List<Integer> codes = List.of(c.readReply().code(), c.readReply().code(), c.readReply().code(),
          c.readReply().code());
      assertEquals(List.of(250, 250, 250, 354), codes, "replies to the pipelined group, in order");
      c.write(SmtpClient.dataBlock(SmtpClient.message("sender@client.test", "p1@remote.example", first, "pipe 1", 2_000)));
      SmtpClient.Reply queued = c.readReply();
      assertEquals(250, queued.code(), queued::text);

      c.write("RSET\r\nMAIL FROM:<sender@client.test>\r\nRCPT TO:<p3@remote.example>\r\nDATA\r\n");
      codes = List.of(c.readReply().code(), c.readReply().code(), c.readReply().code(), c.readReply().code());
      assertEquals(List.of(250, 250, 250, 354), codes, "RSET, MAIL, RCPT, DATA pipelined");
      c.write(SmtpClient.dataBlock(SmtpClient.message("sender@client.test", "p3@remote.example", second, "pipe 2", 500)));
      queued = c.readReply();
      assertEquals(250, queued.code(), queued::text);
    }

    // 2. swaks --pipeline
    String viaSwaks = uniqueId("swaks-pipe");
    Swaks.Result s = Swaks.to(node.smtpPort(), "p4@remote.example").pipeline().messageId(viaSwaks).run();
    assertTrue(s.accepted(), s::toString);

    // 3. smtp-source: 50 messages, 5 sessions in parallel
    Exec.Result src = SmtpSource.run(node.smtpPort(), Duration.ofSeconds(120),
        "-s", "5", "-m", "50", "-l", "1024", "-f", "sender@client.test", "-t", "bulk@remote.example",
        "-M", "client.test");
    assertEquals(0, src.exitCode(), src::toString);

    sink.awaitContaining(first, 1, DELIVERY);
    sink.awaitContaining(second, 1, DELIVERY);
    sink.awaitContaining(viaSwaks, 1, DELIVERY);
    sink.awaitContaining("X-Rcpt-Args: <bulk@remote.example>", 50, Duration.ofSeconds(120));
    String rcptsOfFirst = String.join("\n", sink.messages().stream().filter(m -> m.contains(first)).toList());
    assertTrue(rcptsOfFirst.contains("X-Rcpt-Args: <p1@remote.example>")
        && rcptsOfFirst.contains("X-Rcpt-Args: <p2@remote.example>"), () -> "both recipients of " + first);
    node.awaitLog(deliveryLine(null, "bulk@remote.example", sink.port(), "sent"), DELIVERY);
    long deadline = System.nanoTime() + DELIVERY.toNanos();
    while (node.countLog(deliveryLine(null, "bulk@remote.example", sink.port(), "sent")) < 50
        && System.nanoTime() < deadline) {
      Ports.sleep(250);
    }
    assertEquals(50, node.countLog(deliveryLine(null, "bulk@remote.example", sink.port(), "sent")),
        () -> "50 status=sent lines for bulk@remote.example\n" + node.tail(20));
  }
}

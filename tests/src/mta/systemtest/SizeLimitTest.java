package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * message_size_limit: a MAIL FROM with SIZE= over the limit is refused at once, and a message
 * that turns out too big without SIZE= is refused at the final dot; both 552 5.3.4, and neither
 * is queued. A message under the limit passes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SizeLimitTest extends SystemTestSupport {
  private static final int LIMIT = 20_000;

  @Test
  void messagesOverTheLimitAreRefusedWith552() {
    SmtpSink sink = sink();
    NodeProcess node = startNode(node("small").set("mta.message_size_limit", LIMIT).relayhost(sink.port()));

    String bigId = uniqueId("too-big");
    String fitsId = uniqueId("fits");
    SmtpClient.Reply ehlo;
    SmtpClient.Reply sizeTooBig;
    SmtpClient.Reply bodyTooBig;
    SmtpClient.Reply fits;
    try (SmtpClient c = SmtpClient.connect(node.smtpPort())) {
      ehlo = c.ehlo("client.test");
      // 1. declared too big: refused at MAIL
      sizeTooBig = c.command("MAIL FROM:<sender@client.test> SIZE=" + (LIMIT * 3));
      if (sizeTooBig.positive()) c.command("RSET");
      // 2. not declared, but too big: refused after the final dot
      bodyTooBig = c.send("sender@client.test", List.of("big@remote.example"),
          SmtpClient.message("sender@client.test", "big@remote.example", bigId, "too big", LIMIT * 3));
      // 3. under the limit, with a truthful SIZE=: accepted
      String small = SmtpClient.message("sender@client.test", "small@remote.example", fitsId, "fits", 1_000);
      SmtpClient.Reply mail = c.command("MAIL FROM:<sender@client.test> SIZE=" + small.length());
      assertEquals(250, mail.code(), mail::text);
      assertEquals(250, c.command("RCPT TO:<small@remote.example>").code());
      assertEquals(354, c.command("DATA").code());
      c.write(SmtpClient.dataBlock(small));
      fits = c.readReply();
    }

    assertAll(
        () -> assertTrue(ehlo.lines().stream().anyMatch(l -> l.startsWith("SIZE")),
            "EHLO advertises SIZE (RFC 1870): " + ehlo),
        () -> assertEquals(552, sizeTooBig.code(), "MAIL FROM ... SIZE= over the limit: " + sizeTooBig),
        () -> assertTrue(sizeTooBig.text().contains("5.3.4"), "enhanced code 5.3.4: " + sizeTooBig),
        () -> assertEquals(552, bodyTooBig.code(), "a body over the limit, at the final dot: " + bodyTooBig),
        () -> assertTrue(bodyTooBig.text().contains("5.3.4"), "enhanced code 5.3.4: " + bodyTooBig),
        () -> assertEquals(250, fits.code(), "a message under the limit: " + fits));

    sink.awaitContaining(fitsId, 1, DELIVERY);
    holdsFor(Duration.ofSeconds(2), () -> sink.countContaining(bigId) == 0, "the refused message was delivered");
    assertEquals(0, node.countLog(deliveryLine(null, "big@remote.example", null, "")),
        () -> "nothing queued for it\n" + node.tail(40));
  }
}

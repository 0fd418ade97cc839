package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The mail policy on the real node: an access table refuses a recipient at RCPT, header_checks
 * refuse a message at the end of DATA and hold another, and an edited table takes effect
 * without a restart. Nothing refused or held reaches the next hop.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PolicyTest extends SystemTestSupport {

  @Test
  void accessTablesAndHeaderChecks() throws IOException {
    SmtpSink sink = sink();
    Path access = dir.resolve("recipient_access");
    Files.writeString(access, "closed@relayed.test    REJECT Mailbox closed\n");
    Path headerChecks = dir.resolve("header_checks");
    Files.writeString(headerChecks, """
        /^Subject: .*forbidden/     REJECT No forbidden subjects here
        /^Subject: hold me/         HOLD for a human to look at
        """);
    NodeProcess node = startNode(node("policy")
        .set("mta.mynetworks", List.of())
        .set("mta.relay_domains", List.of("relayed.test"))
        .set("mta.smtpd_recipient_restrictions", List.of("check_recipient_access texthash:" + access))
        .set("mta.header_checks", List.of("regexp:" + headerChecks))
        .relayhost(sink.port()));

    // check_recipient_access REJECT: refused at RCPT, with Postfix's reply and log line.
    Swaks.Result closed = Swaks.to(node.smtpPort(), "closed@relayed.test").messageId(uniqueId("closed")).run();
    assertEquals(24, closed.exitCode(), () -> "swaks: no RCPT accepted (exit 24)\n" + closed);
    assertTrue(closed.hasReply("^554 5\\.7\\.1 <closed@relayed\\.test>: Recipient address rejected: Mailbox closed"), closed::toString);
    node.awaitLog("NOQUEUE: reject: RCPT from .*: 554 5\\.7\\.1 <closed@relayed\\.test>: Recipient address rejected: "
        + "Mailbox closed; from=<sender@client\\.test> to=<closed@relayed\\.test> proto=ESMTP helo=<client\\.test>", Duration.ofSeconds(5));

    // header_checks REJECT: refused after the final dot, nothing queued.
    String forbiddenId = uniqueId("forbidden");
    Swaks.Result forbidden = Swaks.to(node.smtpPort(), "open@relayed.test").messageId(forbiddenId).subject("a forbidden fruit").run();
    assertEquals(26, forbidden.exitCode(), () -> "swaks: message refused after the final dot (exit 26)\n" + forbidden);
    assertTrue(forbidden.hasReply("^550 5\\.7\\.1 No forbidden subjects here"), forbidden::toString);
    node.awaitLog("[0-9A-Za-z]+: reject: header Subject: a forbidden fruit from .*; from=<sender@client\\.test> "
        + "to=<open@relayed\\.test> proto=ESMTP helo=<client\\.test>: No forbidden subjects here", Duration.ofSeconds(5));

    // header_checks HOLD: accepted, kept on hold, not delivered.
    String heldId = uniqueId("held");
    Swaks.Result held = Swaks.to(node.smtpPort(), "open@relayed.test").messageId(heldId).subject("hold me please").run();
    assertTrue(held.accepted(), held::toString);
    node.awaitLog(held.queueId() + ": hold: header Subject: hold me please from ", Duration.ofSeconds(5));

    // The control: an ordinary message goes through.
    String okId = uniqueId("ok");
    Swaks.Result ok = Swaks.to(node.smtpPort(), "open@relayed.test").messageId(okId).subject("hello").run();
    assertTrue(ok.accepted(), ok::toString);
    sink.awaitContaining(okId, 1, DELIVERY);

    // The access table changes under the running node and the next RCPT sees it.
    var before = Files.getLastModifiedTime(access).toInstant();
    Files.writeString(access, "closed@relayed.test    REJECT Mailbox closed\nlater@relayed.test     450 4.2.1 Try again tomorrow\n");
    Files.setLastModifiedTime(access, FileTime.from(before.plusSeconds(5)));
    Swaks.Result later = Swaks.to(node.smtpPort(), "later@relayed.test").messageId(uniqueId("later")).run();
    assertTrue(later.hasReply("^450 4\\.2\\.1 <later@relayed\\.test>: Recipient address rejected: Try again tomorrow"), later::toString);

    holdsFor(Duration.ofSeconds(2), () -> sink.countContaining(forbiddenId) == 0 && sink.countContaining(heldId) == 0,
        "a refused or held message reached the next hop");
    assertEquals(1, sink.count(), "only the ordinary message was delivered");
  }
}

package mta.dsn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import mta.dsn.Notice.Kind;
import mta.mail.Dsn;
import mta.mail.Dsn.Ret;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.dom.field.ContentTypeField;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.junit.jupiter.api.Test;

/** DSNs built, then read back with mime4j: structure, headers and every status field. */
class DsnBuilderTest {
  private static final ZoneId ZONE = ZoneId.of("Europe/Berlin");
  private static final Instant NOW = Instant.parse("2024-03-01T12:00:00Z");
  private static final Instant ARRIVAL = Instant.parse("2024-03-01T08:00:00Z");
  private static final String HEADERS = "Received: from client.example.org\r\n\tby mx.test; Fri, 1 Mar 2024 09:00:00 +0100\r\n"
      + "From: Alice <alice@example.org>\r\nSubject: hello\r\nMessage-ID: <m1@example.org>\r\n";
  private static final String CONTENT = HEADERS + "\r\nbody line\r\n--not-a-boundary\r\n";

  private final DsnBuilder builder = new DsnBuilder("mx.test", 50_000, Duration.ofDays(5), Clock.fixed(NOW, ZONE));

  private static final RecipientStatus BOB = new RecipientStatus("bob@example.net", "rfc822;Bob@example.net", null,
      Action.FAILED, "5.1.1", "host mx.example.net[192.0.2.1] said: 550 5.1.1 <bob@example.net>: Recipient address rejected:"
          + " User unknown in virtual mailbox table (in reply to RCPT TO command)",
      "mx.example.net", "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in virtual mailbox table");
  private static final RecipientStatus CAROL = RecipientStatus.local("carol@example.net", Action.FAILED, "5.4.4",
      "Host or domain name not found. Name service error for name=example.net type=MX: Host not found");

  private static OriginalMessage original(Ret ret, String content) {
    return new OriginalMessage("4F2A1B", "alice@example.org", ARRIVAL, "ENV-1", ret, content.getBytes(StandardCharsets.ISO_8859_1));
  }

  private byte[] failure(Ret ret, String content) {
    return builder.build(new Notice(Kind.FAILURE, "", "alice@example.org", false, List.of(BOB, CAROL)), original(ret, content));
  }

  // --- a failure notice to the sender ---------------------------------------------------

  @Test
  void aBounceIsAMultipartReportWithThreeParts() throws IOException {
    var dsn = parse(failure(Ret.FULL, CONTENT));
    var type = (ContentTypeField) dsn.getHeader().getField("Content-Type");
    assertEquals("multipart/report", type.getMimeType());
    assertEquals("delivery-status", type.getParameter("report-type"));
    var parts = parts(dsn);
    assertEquals(List.of("text/plain", "message/delivery-status", "message/rfc822"), parts.stream().map(Entity::getMimeType).toList());
    assertEquals(List.of("Notification", "Delivery report", "Undelivered Message"),
        parts.stream().map(p -> p.getHeader().getField("Content-Description").getBody()).toList());
    assertEquals("us-ascii", parts.get(0).getCharset());
  }

  @Test
  void theHeadersNameTheMailerDaemonAndTheSender() throws IOException {
    var dsn = parse(failure(Ret.FULL, CONTENT));
    assertEquals("MAILER-DAEMON@mx.test", dsn.getFrom().get(0).getAddress());
    assertEquals("alice@example.org", dsn.getTo().flatten().get(0).getAddress());
    assertEquals("Undelivered Mail Returned to Sender", dsn.getSubject());
    assertEquals("auto-replied", dsn.getHeader().getField("Auto-Submitted").getBody());
    assertEquals(NOW, dsn.getDate().toInstant());
    assertTrue(Pattern.matches("<20240301130000\\.[0-9a-f]{16}@mx\\.test>", dsn.getMessageId()), dsn.getMessageId());
  }

  @Test
  void theNotificationHasPostfixsWordingAndEachRecipientsReasonWrapped() throws IOException {
    var text = body(parts(parse(failure(Ret.FULL, CONTENT))).get(0));
    assertTrue(text.startsWith("This is the mail system at host mx.test.\r\n\r\n"
        + "I'm sorry to have to inform you that your message could not\r\n"
        + "be delivered to one or more recipients. It's attached below.\r\n"), text);
    assertTrue(text.contains("\r\n                   The mail system\r\n"), text);
    assertTrue(text.contains("\r\n<bob@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1\r\n"
        + "    <bob@example.net>: Recipient address rejected: User unknown in virtual\r\n"
        + "    mailbox table (in reply to RCPT TO command)\r\n"), text);
    assertTrue(text.contains("\r\n<carol@example.net>: Host or domain name not found. Name service error for\r\n"
        + "    name=example.net type=MX: Host not found\r\n"), text);
    text.lines().forEach(line -> assertTrue(line.length() <= 79, line));
  }

  @Test
  void theDeliveryStatusHasEveryField() throws IOException {
    var blocks = statusBlocks(body(parts(parse(failure(Ret.FULL, CONTENT))).get(1)));
    assertEquals(3, blocks.size());
    assertEquals(Map.of(
        "Reporting-MTA", "dns; mx.test",
        "Original-Envelope-Id", "ENV-1",
        "X-Queue-ID", "4F2A1B",
        "X-Sender", "rfc822; alice@example.org",
        "Arrival-Date", "Fri, 1 Mar 2024 09:00:00 +0100"), blocks.get(0));
    assertEquals(Map.of(
        "Final-Recipient", "rfc822; bob@example.net",
        "Original-Recipient", "rfc822;Bob@example.net",
        "Action", "failed",
        "Status", "5.1.1",
        "Remote-MTA", "dns; mx.example.net",
        "Diagnostic-Code", "smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in virtual mailbox table"),
        blocks.get(1));
    assertEquals(Map.of(
        "Final-Recipient", "rfc822; carol@example.net",
        "Action", "failed",
        "Status", "5.4.4",
        "Diagnostic-Code", "X-MTA; Host or domain name not found. Name service error for name=example.net type=MX: Host not found"),
        blocks.get(2));
  }

  @Test
  void retFullReturnsTheWholeOriginalUnchanged() throws IOException {
    var bytes = failure(Ret.FULL, CONTENT);
    var returned = assertInstanceOf(Message.class, parts(parse(bytes)).get(2).getBody());
    assertEquals("hello", returned.getSubject());
    assertTrue(new String(bytes, StandardCharsets.US_ASCII).contains("\r\n\r\n" + CONTENT));
    assertEquals("7bit", parts(parse(bytes)).get(2).getContentTransferEncoding());
  }

  @Test
  void retHdrsReturnsTheHeadersOnly() throws IOException {
    var part = parts(parse(failure(Ret.HDRS, CONTENT))).get(2);
    assertEquals("text/rfc822-headers", part.getMimeType());
    assertEquals("Undelivered Message Headers", part.getHeader().getField("Content-Description").getBody());
    assertEquals(HEADERS, body(part));
  }

  @Test
  void anOriginalOverTheSizeLimitIsReturnedAsHeadersOnly() throws IOException {
    var big = HEADERS + "\r\n" + "x".repeat(78).concat("\r\n").repeat(1000);
    var part = parts(parse(failure(Ret.FULL, big))).get(2);
    assertEquals("text/rfc822-headers", part.getMimeType());
    assertEquals(HEADERS, body(part));
  }

  @Test
  void everyLineEndsInCrlfEvenWhenTheOriginalUsedBareLf() {
    var bytes = failure(Ret.FULL, CONTENT.replace("\r\n", "\n"));
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\n') assertEquals('\r', bytes[i - 1], "bare LF at " + i);
    }
  }

  @Test
  void anEightBitOriginalIsDeclaredSo() throws IOException {
    var part = parts(parse(failure(Ret.FULL, "Subject: gr\u00fc\u00dfe\r\n\r\nK\u00e4se\r\n"))).get(2);
    assertEquals("8bit", part.getContentTransferEncoding());
  }

  @Test
  void textFromElsewhereIsMaskedToPrintableAscii() throws IOException {
    var odd = RecipientStatus.local("dave@example.net", Action.FAILED, "5.0.0", "caf\u00e9\tbar\u0007");
    var dsn = parse(builder.build(new Notice(Kind.FAILURE, "", "alice@example.org", false, List.of(odd)), original(Ret.FULL, CONTENT)));
    assertTrue(body(parts(dsn).get(0)).contains("<dave@example.net>: caf??bar?\r\n"));
    assertEquals("X-MTA; caf??bar?", statusBlocks(body(parts(dsn).get(1))).get(1).get("Diagnostic-Code"));
  }

  @Test
  void theBoundaryNeverOccursInTheOriginal() throws IOException {
    var nasty = HEADERS + "\r\n--4F2A1B.1709294400/mx.test\r\n";
    var bytes = failure(Ret.FULL, nasty);
    var type = (ContentTypeField) parse(bytes).getHeader().getField("Content-Type");
    assertTrue(type.getBoundary().startsWith("4F2A1B.1709294400/mx.test."), type.getBoundary());
    assertEquals(3, parts(parse(bytes)).size());
  }

  // --- delay and success notices, postmaster copies -------------------------------------

  @Test
  void aDelayWarningSaysHowLongAndUntilWhen() throws IOException {
    var delayed = new RecipientStatus("bob@example.net", "", null, Action.DELAYED, "4.4.1",
        "connect to mx.example.net[192.0.2.1]:25: Connection refused", "", "");
    var dsn = parse(builder.build(new Notice(Kind.DELAY, "", "alice@example.org", false, List.of(delayed)), original(Ret.FULL, CONTENT)));
    assertEquals("Delayed Mail (still being retried)", dsn.getSubject());
    var text = body(parts(dsn).get(0));
    assertTrue(text.contains("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"), text);
    assertTrue(text.contains("Your message could not be delivered for 4 hour(s).\r\nIt will be retried until it is 5 day(s) old.\r\n"), text);
    var recipient = statusBlocks(body(parts(dsn).get(1))).get(1);
    assertEquals("delayed", recipient.get("Action"));
    assertEquals("4.4.1", recipient.get("Status"));
    assertEquals("Wed, 6 Mar 2024 09:00:00 +0100", recipient.get("Will-Retry-Until"));
    assertEquals("text/rfc822-headers", parts(dsn).get(2).getMimeType());
    assertEquals("Undelivered Message Headers", parts(dsn).get(2).getHeader().getField("Content-Description").getBody());
  }

  @Test
  void aSuccessReportListsTheDeliveredRecipients() throws IOException {
    var delivered = new RecipientStatus("bob@example.net", "", Set.of(Dsn.Notify.SUCCESS), Action.DELIVERED, "2.0.0",
        "delivered to maildir", "", "");
    var dsn = parse(builder.build(new Notice(Kind.SUCCESS, "", "alice@example.org", false, List.of(delivered)), original(Ret.FULL, CONTENT)));
    assertEquals("Successful Mail Delivery Report", dsn.getSubject());
    assertTrue(body(parts(dsn).get(0)).contains("Your message was successfully delivered to the destination(s)\r\n"));
    var recipient = statusBlocks(body(parts(dsn).get(1))).get(1);
    assertEquals("delivered", recipient.get("Action"));
    assertEquals("2.0.0", recipient.get("Status"));
    assertFalse(recipient.containsKey("Will-Retry-Until"));
    assertEquals("Message Headers", parts(dsn).get(2).getHeader().getField("Content-Description").getBody());
  }

  @Test
  void aPostmasterCopyHasNoBoilerplateAndOnlyTheHeaders() throws IOException {
    var dsn = parse(builder.build(new Notice(Kind.FAILURE, "double-bounce@mx.test", "postmaster", true, List.of(CAROL)),
        original(Ret.FULL, CONTENT)));
    assertEquals("Postmaster Copy: Undelivered Mail", dsn.getSubject());
    assertEquals("postmaster@mx.test", dsn.getTo().flatten().get(0).getAddress());
    var text = body(parts(dsn).get(0));
    assertFalse(text.contains("I'm sorry"), text);
    assertTrue(text.contains("<carol@example.net>: Host or domain name not found."), text);
    assertEquals(HEADERS, body(parts(dsn).get(2)));
  }

  @Test
  void aReportAboutANullSenderMessageSaysSo() throws IOException {
    var bounce = new OriginalMessage("5B3C2D", "", ARRIVAL, null, null, CONTENT.getBytes(StandardCharsets.US_ASCII));
    var dsn = parse(builder.build(new Notice(Kind.FAILURE, "double-bounce@mx.test", "postmaster@mx.test", true, List.of(CAROL)), bounce));
    var perMessage = statusBlocks(body(parts(dsn).get(1))).get(0);
    assertEquals("rfc822;", perMessage.get("X-Sender"));
    assertFalse(perMessage.containsKey("Original-Envelope-Id"));
    assertEquals(Ret.FULL, bounce.ret());
  }

  // --- helpers --------------------------------------------------------------------------

  @Test
  void wrappingKeepsLongWordsWholeAndLosesNoText() {
    var word = "x".repeat(100);
    assertEquals(List.of("a", "    " + word, "    b"), DsnBuilder.wrap("a " + word + " b"));
    var sentence = "word ".repeat(50).strip();
    var lines = DsnBuilder.wrap(sentence);
    lines.forEach(l -> assertTrue(l.length() <= 79, l));
    assertEquals(sentence, String.join(" ", lines.stream().map(String::strip).toList()));
  }

  /**
   * The property of DsnBuilderFuzzTest#build: addresses near the SMTP command limit and a remote
   * reply quoting one made lines over 998 octets, which the notice's own next hop may refuse.
   */
  @Test
  void everyLineStaysWithin998OctetsWithHugeAddressesAndReplies() {
    var sender = "s".repeat(960) + "@example.org";
    var recipient = "r".repeat(960) + "@example.net";
    var reply = "550 5.1.1 <" + recipient + ">: Recipient address rejected";
    var status = new RecipientStatus(recipient, "rfc822;" + recipient, null, Action.FAILED, "5.1.1",
        "host mx.example.net[192.0.2.1] said: " + reply + " (in reply to RCPT TO command)", "mx.example.net", reply);
    var original = new OriginalMessage("4F2A1B", sender, ARRIVAL, "ENV-1", Ret.FULL, CONTENT.getBytes(StandardCharsets.ISO_8859_1));
    var dsn = builder.build(new Notice(Kind.FAILURE, "", sender, false, List.of(status)), original);
    var tooLong = new String(dsn, StandardCharsets.ISO_8859_1).lines().filter(line -> line.length() > 998)
        .map(line -> line.length() + " octets: " + line.substring(0, 40)).toList();
    assertEquals(List.of(), tooLong);
  }

  @Test
  void theHeaderSectionEndsBeforeTheEmptyLine() {
    assertArrayEquals("A: 1\r\nB: 2\r\n".getBytes(), DsnBuilder.headerSection("A: 1\r\nB: 2\r\n\r\nbody\r\n".getBytes()));
    assertArrayEquals("A: 1\r\n".getBytes(), DsnBuilder.headerSection("A: 1\r\n".getBytes()));
    assertArrayEquals(new byte[0], DsnBuilder.headerSection("\r\nbody\r\n".getBytes()));
  }

  private static Message parse(byte[] bytes) throws IOException {
    return new DefaultMessageBuilder().parseMessage(new ByteArrayInputStream(bytes));
  }

  private static List<Entity> parts(Message message) {
    return ((Multipart) message.getBody()).getBodyParts();
  }

  private static String body(Entity part) throws IOException {
    try (var in = ((SingleBody) part.getBody()).getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  /** The message/delivery-status body as field blocks, folded lines joined with one space. */
  private static List<Map<String, String>> statusBlocks(String body) {
    var blocks = new ArrayList<Map<String, String>>();
    var block = new LinkedHashMap<String, String>();
    String last = null;
    for (var line : body.split("\r\n", -1)) {
      if (line.isEmpty()) {
        if (!block.isEmpty()) blocks.add(block);
        block = new LinkedHashMap<>();
      } else if (Character.isWhitespace(line.charAt(0))) {
        block.put(last, block.get(last) + " " + line.strip());
      } else {
        int colon = line.indexOf(':');
        last = line.substring(0, colon);
        assertFalse(block.containsKey(last), "repeated field " + last);
        block.put(last, line.substring(colon + 1).strip());
      }
    }
    if (!block.isEmpty()) blocks.add(block);
    return blocks;
  }
}

package mta.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.List;
import mta.mail.Envelope;
import mta.mail.MailAddress;
import mta.maps.KeyOrder;
import mta.maps.Maps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import mta.LogCapture;
import org.junit.jupiter.api.io.TempDir;

class CleanupTest {
  private static final ZonedDateTime NOW = ZonedDateTime.of(2024, 5, 6, 7, 8, 9, 0, ZoneOffset.UTC);
  private static final Cleanup.Origin ORIGIN = new Cleanup.Origin("client.example", "client.example", "192.0.2.10", "ESMTP");
  private static final String MESSAGE = "From: a@remote.example\r\nSubject: hello\r\nMessage-ID: <1@remote>\r\n"
      + "Date: Mon, 6 May 2024 07:00:00 +0000\r\n\r\nbody line\r\n";

  @TempDir
  Path dir;

  @RegisterExtension
  final LogCapture logged = new LogCapture("cleanup");

  private List<String> logLines() {
    return logged.lines();
  }

  private Maps table(String title, String type, String text) throws IOException {
    var file = dir.resolve(title);
    Files.writeString(file, text);
    return Maps.open(title, List.of(type + ":" + file));
  }

  /** Only what a test sets: the rest is off. */
  private record Tables(Maps canonical, Maps senderCanonical, Maps recipientCanonical, Maps virtual,
      Maps header, Maps mime, Maps body) {
    static Tables none() {
      return new Tables(Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE);
    }
  }

  private static Cleanup cleanup(Tables t, int expansionLimit) {
    return new Cleanup(new Cleanup.Settings("mx.example.net", "example.net", new KeyOrder("+"),
        d -> d.equals("example.net"), t.canonical(), t.senderCanonical(), t.recipientCanonical(), t.virtual(),
        expansionLimit, 1000, t.header(), t.mime(), t.header(), t.body(), 51200));
  }

  private static Cleanup.Outcome clean(Cleanup cleanup, String sender, List<String> recipients, String content) {
    var envelope = new Envelope(MailAddress.parse(sender), recipients.stream().map(MailAddress::parse).toList());
    return cleanup.clean("4QID", envelope, ORIGIN, content.getBytes(StandardCharsets.UTF_8), NOW);
  }

  private static Cleanup.Outcome.Queue queued(Cleanup.Outcome outcome) {
    return assertInstanceOf(Cleanup.Outcome.Queue.class, outcome);
  }

  private static List<String> addresses(List<MailAddress> list) {
    return list.stream().map(MailAddress::toString).toList();
  }

  // --- the headers cleanup adds -------------------------------------------------------------

  /** The property of CleanupFuzzTest#clean: a HELO or recipient near the command line limit made a Received line over 998 octets. */
  @Test
  void receivedLinesStayWithin998OctetsWhateverTheClientSent() {
    var cleanup = new Cleanup(Cleanup.Settings.plain("mx.example.net"));
    var helo = "h\u00e9" + "x".repeat(990);
    var origin = new Cleanup.Origin(helo, "client.example", "192.0.2.10", "ESMTPA", null, "\u00fcser");
    var recipient = "r".repeat(960) + "@example.net";
    var envelope = new Envelope(MailAddress.parse("a@remote.example"), List.of(MailAddress.parse(recipient)));
    var q = queued(cleanup.clean("4QID", envelope, origin, "Subject: x\r\n\r\nhi\r\n".getBytes(StandardCharsets.UTF_8), NOW));
    var text = new String(q.content(), StandardCharsets.UTF_8);
    text.lines().forEach(line -> assertTrue(line.length() <= 998, line.length() + " octets: " + line));
    assertTrue(text.startsWith("Received: from h?" + "x".repeat(253) + " (client.example [192.0.2.10])\r\n"), text);
    assertTrue(text.contains("\t(Authenticated sender: ?ser)\r\n"), text);
    assertTrue(text.contains("\tfor <" + recipient + ">;\r\n\tMon, 6 May 2024 07:08:09 +0000 (Z)\r\n"), text);
  }

  @Test
  void addsReceivedOnTopAndKeepsTheBody() {
    var q = queued(clean(new Cleanup(Cleanup.Settings.plain("mx.example.net")), "a@remote.example", List.of("b@example.net"), MESSAGE));
    var text = new String(q.content(), StandardCharsets.UTF_8);
    assertTrue(text.startsWith("Received: from client.example (client.example [192.0.2.10])\r\n\tby mx.example.net (mta) with ESMTP id 4QID\r\n\tfor <b@example.net>; "), text);
    assertTrue(text.endsWith(MESSAGE));
    assertEquals("<1@remote>", q.messageId());
    assertFalse(q.hold());
  }

  @Test
  void addsMessageIdAndDateWhenMissing() {
    var q = queued(clean(new Cleanup(Cleanup.Settings.plain("mx.example.net")), "", List.of("b@example.net"), "Subject: x\r\n\r\nhi\r\n"));
    var text = new String(q.content(), StandardCharsets.UTF_8);
    assertEquals("<20240506070809.4QID@mx.example.net>", q.messageId());
    assertTrue(text.contains("\r\nMessage-Id: <20240506070809.4QID@mx.example.net>\r\nDate: Mon, 6 May 2024 07:08:09 +0000 (Z)\r\n"), text);
  }

  // --- canonical and virtual ----------------------------------------------------------------

  @Test
  void canonicalMapsForSenderAndRecipients() throws IOException {
    var t = Tables.none();
    t = new Tables(table("canonical", "texthash", "@old.example @example.net\nroot@example.net admin@example.net\n"),
        table("sender_canonical", "texthash", "joe@remote.example Joe.Bloggs@remote.example\n"),
        table("recipient_canonical", "texthash", "info@example.net team@example.net\n"), Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE);
    var q = queued(clean(cleanup(t, 1000), "joe@remote.example", List.of("info@example.net", "someone@old.example", "root"), MESSAGE));
    assertEquals("Joe.Bloggs@remote.example", q.sender().toString());
    assertEquals(List.of("team@example.net", "someone@example.net", "admin@example.net"), addresses(q.recipients()));
  }

  @Test
  void virtualAliasesExpandOneToManyWithExtensionsPropagated() throws IOException {
    var virtual = table("virtual", "texthash", """
        sales@example.net     alice@example.net, bob@other.example
        alice@example.net     alice@mail.example.net
        @alias.example        @example.net
        postmaster            root@mail.example.net
        """);
    var t = new Tables(Maps.NONE, Maps.NONE, Maps.NONE, virtual, Maps.NONE, Maps.NONE, Maps.NONE);
    var q = queued(clean(cleanup(t, 1000), "a@remote.example",
        List.of("sales+q3@example.net", "x@alias.example", "postmaster@example.net", "bob@other.example"), MESSAGE));
    assertEquals(List.of("alice+q3@mail.example.net", "bob+q3@other.example", "x@example.net", "root@mail.example.net", "bob@other.example"),
        addresses(q.recipients()));
  }

  @Test
  void anAddressMayExpandIntoItself() throws IOException {
    var virtual = table("selfvirtual", "texthash", "list@example.net list@example.net, archive@example.net\n");
    var q = queued(clean(cleanup(new Tables(Maps.NONE, Maps.NONE, Maps.NONE, virtual, Maps.NONE, Maps.NONE, Maps.NONE), 1000),
        "a@remote.example", List.of("list@example.net"), MESSAGE));
    assertEquals(List.of("list@example.net", "archive@example.net"), addresses(q.recipients()));
  }

  @Test
  void aliasLoopsAreDetectedAndDeferred() throws IOException {
    var virtual = table("loop", "texthash", "a@example.net b@example.net\nb@example.net c@example.net\nc@example.net a@example.net\n");
    var refused = assertInstanceOf(Cleanup.Outcome.Refuse.class, clean(
        cleanup(new Tables(Maps.NONE, Maps.NONE, Maps.NONE, virtual, Maps.NONE, Maps.NONE, Maps.NONE), 1000),
        "s@remote.example", List.of("a@example.net"), MESSAGE));
    assertEquals("451 4.6.0 Alias expansion error", refused.reply().oneLine());
    assertTrue(logLines().stream().anyMatch(l -> l.contains("virtual_alias_maps loop for a@example.net")), logLines().toString());
  }

  @Test
  void expansionsAreBounded() throws IOException {
    var virtual = table("wide", "texthash", "all@example.net u1@x.example, u2@x.example, u3@x.example, u4@x.example\n");
    var refused = assertInstanceOf(Cleanup.Outcome.Refuse.class, clean(
        cleanup(new Tables(Maps.NONE, Maps.NONE, Maps.NONE, virtual, Maps.NONE, Maps.NONE, Maps.NONE), 3),
        "s@remote.example", List.of("all@example.net"), MESSAGE));
    assertEquals("451 4.6.0 Alias expansion error", refused.reply().oneLine());
  }

  // --- header and body checks ---------------------------------------------------------------

  private Cleanup checks(String header, String mime, String body) throws IOException {
    return cleanup(new Tables(Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE,
        header == null ? Maps.NONE : table("header_checks", "regexp", header),
        mime == null ? Maps.NONE : table("mime_header_checks", "regexp", mime),
        body == null ? Maps.NONE : table("body_checks", "regexp", body)), 1000);
  }

  @Test
  void headerRejectIsLoggedLikePostfix() throws IOException {
    var refused = assertInstanceOf(Cleanup.Outcome.Refuse.class,
        clean(checks("/^Subject: .*hello/ REJECT No greetings here\n", null, null), "a@remote.example", List.of("b@example.net"), MESSAGE));
    assertEquals("550 5.7.1 No greetings here", refused.reply().oneLine());
    assertEquals("4QID: reject: header Subject: hello from client.example[192.0.2.10]; from=<a@remote.example> "
        + "to=<b@example.net> proto=ESMTP helo=<client.example>: No greetings here", logLines().getFirst());
  }

  @Test
  void rejectWithoutTextAndWithAnEnhancedCode() throws IOException {
    var plain = assertInstanceOf(Cleanup.Outcome.Refuse.class,
        clean(checks("/^Subject:/ REJECT\n", null, null), "a@remote.example", List.of("b@example.net"), MESSAGE));
    assertEquals("550 5.7.1 Message content rejected", plain.reply().oneLine());
    var coded = assertInstanceOf(Cleanup.Outcome.Refuse.class,
        clean(checks(null, null, "/^body/ REJECT 4.7.0 try later\n"), "a@remote.example", List.of("b@example.net"), MESSAGE));
    assertEquals("451 4.7.0 try later", coded.reply().oneLine());
  }

  @Test
  void discardAndHold() throws IOException {
    assertInstanceOf(Cleanup.Outcome.Discard.class,
        clean(checks(null, null, "/^body line$/ DISCARD\n"), "a@remote.example", List.of("b@example.net"), MESSAGE));
    var held = queued(clean(checks("/^From:/ HOLD look at this\n", null, null), "a@remote.example", List.of("b@example.net"), MESSAGE));
    assertTrue(held.hold());
    assertTrue(logLines().stream().anyMatch(l -> l.startsWith("4QID: hold: header From: a@remote.example from ")));
  }

  @Test
  void ignoreReplacePrependAndWarnEditOnlyThoseLines() throws IOException {
    var q = queued(clean(checks("""
        /^Subject: (.*)/   REPLACE Subject: [ext] $1
        /^Message-ID:/     PREPEND X-Checked: yes
        /^Date:/           IGNORE
        /^From:/           WARN from header seen
        """, null, "/^body line$/ REPLACE body text\n"), "a@remote.example", List.of("b@example.net"), MESSAGE));
    var text = new String(q.content(), StandardCharsets.UTF_8);
    var original = text.substring(text.indexOf("From: "));
    assertEquals("From: a@remote.example\r\nSubject: [ext] hello\r\nX-Checked: yes\r\nMessage-ID: <1@remote>\r\n\r\nbody text\r\n", original);
    assertTrue(text.contains("\r\nDate: "), "cleanup adds a Date for the one that was removed");
    assertTrue(logLines().stream().anyMatch(l -> l.startsWith("4QID: warning: header From: a@remote.example from ") && l.endsWith(": from header seen")));
  }

  @Test
  void foldedHeadersAreMatchedWhole() throws IOException {
    var message = "Subject: first part\r\n second part\r\n\r\nx\r\n";
    var refused = assertInstanceOf(Cleanup.Outcome.Refuse.class,
        clean(checks("/^Subject: first part\\n second/ REJECT folded\n", null, null), "", List.of("b@example.net"), message));
    assertEquals("550 5.7.1 folded", refused.reply().oneLine());
  }

  private static final String MULTIPART = """
      From: a@remote.example\r
      Subject: with attachment\r
      MIME-Version: 1.0\r
      Content-Type: multipart/mixed; boundary="XX"\r
      \r
      preamble\r
      --XX\r
      Content-Type: text/plain\r
      \r
      hello\r
      --XX\r
      Content-Type: application/octet-stream; name="evil.exe"\r
      Content-Disposition: attachment; filename="evil.exe"\r
      \r
      TVqQAAMAAAAEAAAA\r
      --XX\r
      Content-Type: message/rfc822\r
      \r
      From: inner@nested.example\r
      Subject: inner subject\r
      \r
      inner body\r
      --XX--\r
      epilogue\r
      """;

  @Test
  void mimeHeaderChecksSeeEveryPart() throws IOException {
    var refused = assertInstanceOf(Cleanup.Outcome.Refuse.class, clean(
        checks(null, "/^Content-(Disposition|Type):.*name=\"?.*\\.(exe|scr)\"?/ REJECT Attachment type not allowed\n", null),
        "a@remote.example", List.of("b@example.net"), MULTIPART));
    assertEquals("550 5.7.1 Attachment type not allowed", refused.reply().oneLine());
  }

  @Test
  void mimeHeadersOfThePrimaryMessageGoToMimeChecksOnly() throws IOException {
    // Content-Type of the message itself is a MIME header: header_checks do not see it.
    var q = queued(clean(checks("/^Content-Type:/ REJECT header_checks saw it\n", null, null),
        "a@remote.example", List.of("b@example.net"), MULTIPART));
    assertArrayEquals(MULTIPART.getBytes(StandardCharsets.UTF_8), tail(q.content(), MULTIPART.length()));
  }

  @Test
  void nestedMessageHeadersAndBodyLinesAreInspected() throws IOException {
    var nested = assertInstanceOf(Cleanup.Outcome.Refuse.class, clean(checks("/^Subject: inner/ REJECT nested\n", null, null),
        "a@remote.example", List.of("b@example.net"), MULTIPART));
    assertEquals("550 5.7.1 nested", nested.reply().oneLine());
    var body = assertInstanceOf(Cleanup.Outcome.Refuse.class, clean(checks(null, null, "/^inner body$/ REJECT deep body\n"),
        "a@remote.example", List.of("b@example.net"), MULTIPART));
    assertEquals("550 5.7.1 deep body", body.reply().oneLine());
  }

  @Test
  void editsInsideAMultipartKeepEverythingElseByteForByte() throws IOException {
    var q = queued(clean(checks(null, "/^Content-Disposition: attachment/ IGNORE\n", "/^hello$/ REPLACE goodbye\n"),
        "a@remote.example", List.of("b@example.net"), MULTIPART));
    var expected = MULTIPART.replace("Content-Disposition: attachment; filename=\"evil.exe\"\r\n", "").replace("\r\nhello\r\n", "\r\ngoodbye\r\n");
    assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), tail(q.content(), expected.length()));
  }

  @Test
  void sameTextInHeaderAndBodyIsEditedWhereItMatched() throws IOException {
    var message = "Subject: same\r\n\r\nSubject: same\r\n";
    var q = queued(clean(checks(null, null, "/^Subject: same$/ REPLACE edited\n"), "", List.of("b@example.net"), message));
    assertArrayEquals("Subject: same\r\n\r\nedited\r\n".getBytes(StandardCharsets.UTF_8), tail(q.content(), "Subject: same\r\n\r\nedited\r\n".length()));
  }

  private static byte[] tail(byte[] content, int length) {
    return Arrays.copyOfRange(content, content.length - length, content.length);
  }
}

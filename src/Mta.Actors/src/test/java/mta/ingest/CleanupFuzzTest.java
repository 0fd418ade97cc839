package mta.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.List;
import mta.MessageText;
import mta.mail.Envelope;
import mta.mail.MailAddress;
import mta.maps.KeyOrder;
import mta.maps.Maps;

/**
 * Coverage-guided fuzzing (Jazzer) of cleanup over arbitrary message content, as DATA hands it
 * over (CRLF text, lines of at most 998 octets), and arbitrary client names: cleanup never
 * throws, the headers it adds are valid RFC 5322 lines, and the client's content follows them
 * byte for byte unless a content check changed it. Regression inputs live under
 * {@code src/test/resources/mta/ingest/CleanupFuzzTestInputs/}.
 */
class CleanupFuzzTest {
  private static final ZonedDateTime NOW = ZonedDateTime.of(2024, 5, 6, 7, 8, 9, 0, ZoneOffset.UTC);
  private static final Cleanup PLAIN = new Cleanup(Cleanup.Settings.plain("mx.example.net"));
  /** Header, MIME header and body checks that fire on common words, with every editing action. */
  private static final Cleanup CHECKED = new Cleanup(new Cleanup.Settings("mx.example.net", "example.net",
      new KeyOrder("+"), d -> d.equals("example.net"), Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE, 1000, 1000,
      regexp("header_checks", """
          /^Subject:.*spam/ REJECT no spam
          /^X-Drop:/ IGNORE
          /^X-Old:(.*)/ REPLACE X-New:$1
          /^X-Hold:/ HOLD
          /^From:/ PREPEND X-Seen: yes
          """),
      regexp("mime_header_checks", """
          /^Content-Type:.*name=.*\\.exe/ REJECT 5.7.1 no programs
          /^Content-Disposition:/ PREPEND X-Part: yes
          """),
      regexp("nested_header_checks", "/^Subject:/ WARN nested\n"),
      regexp("body_checks", """
          /^discard me/ DISCARD
          /secret/ REPLACE [removed]
          /^drop$/ IGNORE
          """), 2000));

  private static Maps regexp(String title, String text) {
    try {
      var file = Files.createTempFile(title, ".regexp");
      file.toFile().deleteOnExit();
      Files.writeString(file, text);
      return Maps.open(title, List.of("regexp:" + file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "/mta/mail.dict")
  void clean(FuzzedDataProvider data) {
    var checked = data.consumeBoolean();
    var helo = data.consumeString(1000).codePoints().map(c -> c < ' ' || c == 0x7f ? '?' : c)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    var origin = new Cleanup.Origin(helo.isEmpty() ? null : helo, "client.example", "192.0.2.10",
        data.pickValue(List.of("SMTP", "ESMTP", "ESMTPSA")), null, data.consumeBoolean() ? "alice" : null);
    var recipients = data.consumeBoolean() ? List.of("b@example.net") : List.of("b@example.net", "c@example.net");
    var envelope = new Envelope(MailAddress.parse("a@remote.example"), recipients.stream().map(MailAddress::parse).toList());
    var content = MessageText.of(data.consumeRemainingAsBytes());

    var outcome = (checked ? CHECKED : PLAIN).clean("4QID", envelope, origin, content, NOW);
    if (!(outcome instanceof Cleanup.Outcome.Queue queue)) return;
    var queued = queue.content();
    MessageText.assertValid(queued);
    assertTrue(new String(queued, 0, Math.min(15, queued.length), StandardCharsets.US_ASCII).equals("Received: from "));
    // A client's empty Message-ID header counts as one, as in Postfix: nothing is added.
    assertTrue(queue.messageId() != null);
    if (checked) return;
    var added = new String(queued, 0, queued.length - content.length, StandardCharsets.UTF_8);
    assertTrue(added.endsWith("\r\n"), added);
    assertArrayEquals(content, Arrays.copyOfRange(queued, queued.length - content.length, queued.length), "the content changed");
  }
}

package mta.dsn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import mta.MessageText;
import mta.dsn.Notice.Kind;
import mta.mail.Dsn;
import mta.smtp.SmtpCommand;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;

/**
 * Coverage-guided fuzzing (Jazzer) of DSN building from arbitrary original messages and
 * arbitrary remote replies: the notice is always valid message text (CRLF, lines of at most
 * 998 octets), reads back as a multipart/report of three parts, and returns the original (or
 * its header section) byte for byte. Regression inputs live under
 * {@code src/test/resources/mta/dsn/DsnBuilderFuzzTestInputs/}.
 */
class DsnBuilderFuzzTest {
  private static final Instant NOW = Instant.parse("2024-03-01T12:00:00Z");
  private static final DsnBuilder BUILDER = new DsnBuilder("mx.test", 2000, Duration.ofDays(5), Clock.fixed(NOW, ZoneOffset.UTC));

  @FuzzTest
  @DictionaryFile(resourcePath = "/mta/mail.dict")
  void build(FuzzedDataProvider data) throws IOException, MimeException {
    var kind = data.pickValue(Kind.values());
    boolean postmasterCopy = data.consumeBoolean();
    var ret = data.pickValue(Dsn.Ret.values());
    var envid = data.consumeString(100);
    var sender = address(data.consumeString(300));
    var recipients = new ArrayList<RecipientStatus>();
    for (int i = data.consumeInt(1, 3); i > 0; i--) {
      recipients.add(new RecipientStatus(address(data.consumeString(300)), data.consumeString(300), null, data.pickValue(Action.values()),
          data.pickValue(List.of("5.1.1", "4.4.1", "2.0.0")), data.consumeString(1000), data.consumeString(255),
          data.consumeString(1000)));
    }
    // As queued: cleanup has put its Received header on top of whatever the client sent.
    var content = MessageText.of(("Received: from client.example by mx.test; Fri, 1 Mar 2024 11:00:00 +0000\n"
        + new String(data.consumeRemainingAsBytes(), StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1));
    var original = new OriginalMessage("4QID", sender, NOW.minusSeconds(3600), envid, ret, content);
    var notice = new Notice(kind, "", sender.isEmpty() ? "postmaster" : sender, postmasterCopy, recipients);

    var dsn = BUILDER.build(notice, original);

    MessageText.assertValid(dsn);
    var stream = new MimeTokenStream(MimeConfig.PERMISSIVE);
    stream.setRecursionMode(RecursionMode.M_NO_RECURSE);
    stream.parse(new ByteArrayInputStream(dsn));
    var types = new ArrayList<String>();
    var bodies = new ArrayList<byte[]>();
    for (var state = stream.getState(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
      if (state == EntityState.T_START_MULTIPART) types.add(stream.getBodyDescriptor().getMimeType());
      if (state == EntityState.T_BODY) {
        types.add(stream.getBodyDescriptor().getMimeType());
        bodies.add(stream.getInputStream().readAllBytes());
      }
    }
    boolean whole = types.getLast().equals("message/rfc822");
    assertEquals(List.of("multipart/report", "text/plain", "message/delivery-status", whole ? "message/rfc822" : "text/rfc822-headers"),
        types);
    assertArrayEquals(whole ? content : DsnBuilder.headerSection(content), bodies.getLast(), "the original does not come back as it was");
  }

  /**
   * An address as the queue holds it: one smtpd accepted in MAIL FROM (so no line breaks or
   * other controls), or a plain one where the text is not an address.
   */
  private static String address(String text) {
    return SmtpCommand.parse("MAIL FROM:<" + text + ">") instanceof SmtpCommand.Parsed.Command(SmtpCommand.Mail mail)
        ? mail.sender().toString() : "alice@example.org";
  }
}

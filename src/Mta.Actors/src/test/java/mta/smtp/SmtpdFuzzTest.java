package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import mta.MessageText;
import mta.delivery.DotStuffing;
import mta.mail.Reply;
import mta.smtp.SmtpServerProtocol.Security;
import mta.smtp.SmtpServerProtocol.Step;

/**
 * Coverage-guided fuzzing (Jazzer) of everything an SMTP client controls before cleanup: the
 * command line reader, the command parser, the protocol state machine and the DATA reader.
 * Beyond "no crash", each target checks a property: the parser only ever answers with a
 * command or its syntax reply, every reply is well-formed SMTP, and DATA reading does not
 * depend on how the bytes were cut into reads and undoes the client's dot stuffing exactly.
 *
 * <p>In the normal build these run in regression mode over the inputs committed under
 * {@code src/test/resources/mta/smtp/SmtpdFuzzTestInputs/}; with {@code JAZZER_FUZZ=1}
 * one target is fuzzed (see the README).
 */
class SmtpdFuzzTest {

  private static final String HOST = "mx.example.net";
  /** A reply line: three digits, a space or hyphen, printable ASCII text (RFC 5321 §4.2). */
  private static final Pattern REPLY_LINE = Pattern.compile("[2-5][0-5][0-9][ -][\\x20-\\x7e]*");
  /** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets, CRLF included. */
  private static final int MAX_REPLY_LINE = 512;
  /** The real restriction lists, built from configuration as a node builds them. */
  private static final SmtpChecks RELAY = Policy.checks("""
      mta.mynetworks = [ "127.0.0.0/8" ]
      mta.mydestination = [ example.net ]
      mta.smtpd_recipient_restrictions = [ reject_non_fqdn_recipient, permit ]
      """);
  /**
   * One account. Not SaslPasswords.bcrypt: its deliberate cost (about 70 ms an unknown user,
   * against timing attacks) would starve the fuzzer; the protocol around it is the target.
   */
  private static final SaslPasswords ALICE = (user, password) -> user.equals("alice") && password.equals("secret");

  /** Asserts that a reply is what may go on the wire: each line well-formed and within 512 octets. */
  static void assertWellFormed(Reply reply) {
    var wire = reply.wire();
    assertTrue(wire.endsWith("\r\n"), wire);
    var lines = wire.substring(0, wire.length() - 2).split("\r\n", -1);
    for (int i = 0; i < lines.length; i++) {
      var line = lines[i];
      assertTrue(REPLY_LINE.matcher(line).matches(), () -> "malformed reply line: " + printable(line));
      assertEquals(String.valueOf(reply.code()), line.substring(0, 3));
      assertEquals(i == lines.length - 1 ? ' ' : '-', line.charAt(3), wire);
      assertTrue(line.length() + 2 <= MAX_REPLY_LINE, () -> "reply line of " + (line.length() + 2) + " octets");
    }
  }

  private static String printable(String text) {
    return text.replace("\r", "\\r").replace("\n", "\\n");
  }

  // --- the command parser ---------------------------------------------------------------

  /** Any line gives a command or a syntax reply, never an exception; syntax replies are well-formed. */
  @FuzzTest
  @DictionaryEntries({"MAIL FROM:", "RCPT TO:", "<", ">", "@", "\"", "\\", " SIZE=", " BODY=8BITMIME", " RET=HDRS",
      " ENVID=", " NOTIFY=SUCCESS,DELAY", " ORCPT=rfc822;", "+2B", "EHLO ", "AUTH PLAIN ", "VRFY ", "[192.0.2.1]"})
  void commandLine(FuzzedDataProvider data) {
    boolean strict = data.consumeBoolean();
    var line = data.consumeRemainingAsString();
    switch (SmtpCommand.parse(line, strict)) {
      case SmtpCommand.Parsed.SyntaxError(var verb, var reply) -> {
        assertFalse(verb.isEmpty());
        assertTrue(reply.code() == 500 || reply.code() == 501, reply::oneLine);
        assertWellFormed(reply);
      }
      case SmtpCommand.Parsed.Command(var command) -> {
        if (command instanceof SmtpCommand.Mail mail) assertParameters(mail.params().keySet());
        if (command instanceof SmtpCommand.Rcpt rcpt) assertParameters(rcpt.params().keySet());
      }
    }
  }

  private static void assertParameters(Iterable<String> keywords) {
    for (var keyword : keywords) {
      assertTrue(keyword.chars().noneMatch(c -> c == ' ' || c == '\t'), keyword);
    }
  }

  // --- the command line reader ----------------------------------------------------------

  /**
   * The lines cut from a byte stream are the same however the stream is split into reads; no
   * command line is longer than the limit; every byte is consumed once the stream ends in LF.
   */
  @FuzzTest
  void commandLines(FuzzedDataProvider data) {
    var cuts = data.consumeInts(8);
    var bytes = data.consumeRemainingAsBytes();
    var whole = readLines(bytes, new int[0]);
    var pieces = readLines(bytes, cuts);
    assertEquals(whole, pieces);
    for (var line : whole) {
      if (line instanceof CommandLineReader.Line.Command(var text, var pipelined)) {
        // Characters, not re-encoded octets: an invalid UTF-8 octet decodes as U+FFFD, three octets.
        assertTrue(text.length() <= CommandLineReader.MAX_LINE - 2, "line too long");
        assertFalse(text.contains("\n"), text);
      }
    }
  }

  /** The lines, without the pipelining flag (which depends on the reads by design). */
  private static List<CommandLineReader.Line> readLines(byte[] bytes, int[] cuts) {
    var reader = new CommandLineReader();
    var lines = new ArrayList<CommandLineReader.Line>();
    var buffer = Unpooled.buffer();
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i == cuts.length ? bytes.length : Math.min(bytes.length, from + Math.floorMod(cuts[i], 1200));
      buffer.writeBytes(bytes, from, to - from);
      from = to;
      for (var line = reader.next(buffer); line.isPresent(); line = reader.next(buffer)) {
        lines.add(line.get() instanceof CommandLineReader.Line.Command(var text, var pipelined)
            ? new CommandLineReader.Line.Command(text) : line.get());
      }
      buffer.discardReadBytes();
    }
    return lines;
  }

  // --- the protocol state machine -------------------------------------------------------

  /**
   * A whole session of arbitrary command lines (AUTH exchanges, MAIL and RCPT with ESMTP and
   * DSN parameters, xtext, STARTTLS, DATA outcomes) under arbitrary port settings: every step
   * is one the session actor can carry out, and every reply is well-formed.
   */
  @FuzzTest
  @DictionaryEntries({"EHLO client.example", "HELO x", "MAIL FROM:<a@example.org>", "MAIL FROM:<>", "RCPT TO:<b@example.net>",
      "RCPT TO:<postmaster>", "DATA", "RSET", "NOOP", "QUIT", "VRFY ", "HELP", "STARTTLS", "AUTH PLAIN", "AUTH LOGIN",
      "AGFsaWNlAHNlY3JldA==", "YWxpY2U=", "c2VjcmV0", "=", "*", " SIZE=100", " BODY=7BIT", " RET=FULL", " ENVID=a+2Bb",
      " NOTIFY=NEVER", " NOTIFY=FAILURE", " ORCPT=rfc822;b+40example.net", " AUTH=<>"})
  void session(FuzzedDataProvider data) throws UnknownHostException {
    var settings = new SmtpdSettings(HOST, data.consumeLong(1, 100_000), data.consumeInt(1, 5), data.consumeInt(0, 3),
        data.consumeInt(1, 30), "mta", data.consumeBoolean(), data.consumeBoolean(), data.consumeBoolean());
    var security = new Security("smtp", data.consumeBoolean(), data.consumeBoolean(), data.consumeBoolean(), data.consumeBoolean(),
        data.consumeBoolean() ? ALICE : null);
    var client = new ClientInfo(InetAddress.getByName("192.0.2.10"), 1, "client.example");
    var smtpd = new SmtpServerProtocol(settings, client, RELAY, security);
    assertWellFormed(smtpd.greeting());
    for (int commands = 0; commands < 64 && data.remainingBytes() > 0; commands++) {
      var reply = switch (data.consumeInt(0, 15)) {
        case 0 -> smtpd.lineTooLong();
        case 1 -> smtpd.timeout();
        default -> null;
      };
      if (reply != null) {
        assertWellFormed(reply);
        continue;
      }
      var step = smtpd.onCommand(data.consumeString(1000), data.consumeBoolean());
      if (step instanceof Step.StartData start) {
        assertWellFormed(start.reply());
        step = smtpd.onData(dataResult(data));
      }
      if (step instanceof Step.Enqueue) {
        step = new Step.Respond(switch (data.consumeInt(0, 2)) {
          case 0 -> smtpd.onQueued("4QID");
          case 1 -> smtpd.onQueueFailed("journal down");
          default -> smtpd.onRefused(Reply.of(550, "5.7.1", "Message content rejected"));
        });
      }
      switch (step) {
        case Step.Respond(var r) -> assertWellFormed(r);
        case Step.StartTls(var r) -> assertWellFormed(r);
        case Step.RespondAndClose(var r) -> {
          assertWellFormed(r);
          return;
        }
        case Step.StartData s -> fail("DATA twice without a body");
        case Step.Enqueue e -> fail("enqueued twice");
      }
    }
  }

  private static DataResult dataResult(FuzzedDataProvider data) {
    return switch (data.consumeInt(0, 3)) {
      case 0 -> new DataResult.TooBig();
      case 1 -> new DataResult.LineTooLong();
      case 2 -> new DataResult.BareLineEnding();
      default -> new DataResult.Complete(data.consumeBytes(200));
    };
  }

  // --- the DATA reader ------------------------------------------------------------------

  /**
   * A body read in any pieces ends the same way and leaves the same bytes for the next command;
   * a complete body is within the size limit, has CRLF line ends and lines of at most 998
   * octets, and survives the client's dot stuffing unchanged.
   */
  @FuzzTest
  @DictionaryFile(resourcePath = "/mta/mail.dict")
  void dataBody(FuzzedDataProvider data) {
    long limit = data.consumeLong(1, 5000);
    var cuts = data.consumeInts(6);
    var wire = data.consumeRemainingAsBytes();
    var whole = readBody(wire, limit, new int[0]);
    var pieces = readBody(wire, limit, cuts);
    assertEquals(whole.ended(), pieces.ended());
    assertArrayEquals(whole.leftOver(), pieces.leftOver());
    if (whole.result() == null) return;
    assertEquals(whole.result().getClass(), pieces.result().getClass());
    if (!(whole.result() instanceof DataResult.Complete(var content))) return;
    assertArrayEquals(content, ((DataResult.Complete) pieces.result()).content());
    assertTrue(content.length <= limit, "over the size limit");
    MessageText.assertValid(content);
    var again = readBody(DotStuffing.encode(content), limit + 2, new int[0]);
    var expected = content.length == 0 || endsWithCrlf(content) ? content : concat(content, new byte[] {'\r', '\n'});
    assertArrayEquals(expected, assertInstanceOf(DataResult.Complete.class, again.result()).content());
    assertEquals(0, again.leftOver().length);
  }

  /**
   * The client's dot stuffing and our unstuffing are inverse: any CRLF text with lines of at most
   * 998 octets comes back from {@code DotStuffing.encode} then {@link DataReader} unchanged.
   */
  @FuzzTest
  @DictionaryFile(resourcePath = "/mta/mail.dict")
  void dotStuffingRoundTrip(byte[] raw) {
    var content = MessageText.of(raw);
    var read = readBody(DotStuffing.encode(content), DataReader.MAX_SIZE_LIMIT, new int[0]);
    assertArrayEquals(content, assertInstanceOf(DataResult.Complete.class, read.result()).content());
    assertEquals(0, read.leftOver().length);
  }

  private record Body(boolean ended, DataResult result, byte[] leftOver) {}

  private static Body readBody(byte[] wire, long limit, int[] cuts) {
    var reader = new DataReader(limit);
    var buffer = Unpooled.buffer();
    int from = 0;
    boolean ended = false;
    for (int i = 0; i <= cuts.length && !ended; i++) {
      int to = i == cuts.length ? wire.length : Math.min(wire.length, from + Math.floorMod(cuts[i], 2000));
      buffer.writeBytes(wire, from, to - from);
      from = to;
      ended = reader.feed(buffer);
    }
    buffer.writeBytes(wire, from, wire.length - from);
    var leftOver = new byte[buffer.readableBytes()];
    buffer.readBytes(leftOver);
    return new Body(ended, ended ? reader.result() : null, leftOver);
  }

  private static boolean endsWithCrlf(byte[] content) {
    return content.length >= 2 && content[content.length - 2] == '\r' && content[content.length - 1] == '\n';
  }

  private static byte[] concat(byte[] a, byte[] b) {
    var out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

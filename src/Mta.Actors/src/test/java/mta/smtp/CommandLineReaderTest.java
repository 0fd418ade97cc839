package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import mta.smtp.CommandLineReader.Line;
import org.junit.jupiter.api.Test;

class CommandLineReaderTest {

  private final CommandLineReader reader = new CommandLineReader();

  private static ByteBuf bytes(String text) {
    return Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
  }

  private static Optional<Line> command(String text) {
    return Optional.of(new Line.Command(text));
  }

  /** A line with more input waiting behind it: the client pipelined. */
  private static Optional<Line> followed(String text) {
    return Optional.of(new Line.Command(text, true));
  }

  @Test
  void pipelinedLinesComeOutOneAtATime() {
    var in = bytes("EHLO client.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
    assertEquals(followed("EHLO client.example"), reader.next(in));
    assertEquals(followed("MAIL FROM:<a@b>"), reader.next(in));
    assertEquals(command("RCPT TO:<c@d>"), reader.next(in));
    assertEquals(Optional.empty(), reader.next(in));
    assertEquals(0, in.readableBytes());
  }

  @Test
  void partialLineStaysInTheBuffer() {
    var in = Unpooled.buffer();
    in.writeCharSequence("NOOP\r\nMAIL FR", StandardCharsets.US_ASCII);
    assertEquals(followed("NOOP"), reader.next(in));
    assertEquals(Optional.empty(), reader.next(in));
    assertEquals("MAIL FR", in.toString(StandardCharsets.US_ASCII));
    in.writeCharSequence("OM:<a@b>\r", StandardCharsets.US_ASCII);
    assertEquals(Optional.empty(), reader.next(in));
    in.writeCharSequence("\n", StandardCharsets.US_ASCII);
    assertEquals(command("MAIL FROM:<a@b>"), reader.next(in));
  }

  @Test
  void emptyLineIsACommand() {
    assertEquals(command(""), reader.next(bytes("\r\n")));
  }

  @Test
  void decodesUtf8() {
    assertEquals(command("EHLO bücher.example"), reader.next(bytes("EHLO bücher.example\r\n")));
  }

  @Test
  void bareLineFeed() {
    var in = bytes("EHLO x\nQUIT\r\n");
    assertEquals(Optional.of(new Line.BareLineEnding()), reader.next(in));
    assertEquals(Optional.of(new Line.BareLineEnding()), reader.next(bytes("\n")));
  }

  @Test
  void bareCarriageReturnInsideALineIsText() {
    assertEquals(command("A\rB"), reader.next(bytes("A\rB\r\n")));
  }

  @Test
  void thousandOctetsIncludingCrlfIsTheLimit() {
    var longest = "X".repeat(998);
    assertEquals(command(longest), reader.next(bytes(longest + "\r\n")));
    var in = bytes("X".repeat(999) + "\r\nNOOP\r\n");
    assertEquals(Optional.of(new Line.TooLong()), reader.next(in));
    assertEquals(command("NOOP"), reader.next(in));
  }

  @Test
  void incompleteLineUnderTheLimitWaits() {
    var in = bytes("X".repeat(999));
    assertEquals(Optional.empty(), reader.next(in));
    assertEquals(999, in.readableBytes());
  }

  @Test
  void overLongLineIsDiscardedAsItArrives() {
    var in = Unpooled.buffer();
    in.writeCharSequence("X".repeat(600), StandardCharsets.US_ASCII);
    assertEquals(Optional.empty(), reader.next(in));
    in.writeCharSequence("X".repeat(600), StandardCharsets.US_ASCII);
    assertEquals(Optional.empty(), reader.next(in));
    assertEquals(0, in.readableBytes(), "nothing of an over-long line is kept");
    in.writeCharSequence("X".repeat(5000), StandardCharsets.US_ASCII);
    assertEquals(Optional.empty(), reader.next(in));
    assertEquals(0, in.readableBytes());
    in.writeCharSequence("tail\r\nNOOP\r\nQU", StandardCharsets.US_ASCII);
    assertEquals(Optional.of(new Line.TooLong()), reader.next(in));
    assertEquals(followed("NOOP"), reader.next(in));
    assertEquals(Optional.empty(), reader.next(in));
    assertEquals("QU", in.toString(StandardCharsets.US_ASCII));
  }

  @Test
  void overLongLineEndingInBareLineFeedIsStillTooLong() {
    var in = bytes("X".repeat(1200) + "\nNOOP\r\n");
    assertEquals(Optional.of(new Line.TooLong()), reader.next(in));
    assertEquals(command("NOOP"), reader.next(in));
  }

  @Test
  void thousandOctetsWithoutLineFeedAreAlreadyTooLong() {
    var in = bytes("X".repeat(1000));
    assertEquals(Optional.empty(), reader.next(in));
    assertEquals(0, in.readableBytes());
    assertTrue(reader.next(bytes("\r\n")).orElseThrow() instanceof Line.TooLong);
  }
}

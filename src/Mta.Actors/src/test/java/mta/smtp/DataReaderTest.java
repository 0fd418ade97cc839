package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DataReaderTest {

  private static final long LIMIT = 10_240_000;

  private static ByteBuf bytes(String text) {
    return Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static String text(byte[] content) {
    return new String(content, StandardCharsets.ISO_8859_1);
  }

  /** Reads a whole body in one piece; returns the result and checks what is left over. */
  private static DataResult read(String wire, long limit, String leftOver) {
    var reader = new DataReader(limit);
    var in = bytes(wire);
    assertTrue(reader.feed(in), "body should be complete");
    assertEquals(leftOver, in.toString(StandardCharsets.ISO_8859_1));
    return reader.result();
  }

  private static String content(String wire) {
    return text(assertInstanceOf(DataResult.Complete.class, read(wire, LIMIT, "")).content());
  }

  @Test
  void aHeaderFoldedOnPastHeaderSizeLimitIsRefused() {
    var folded = new StringBuilder("Subject: start\r\n");
    for (int i = 0; i < 20; i++) folded.append("\t").append("x".repeat(60)).append("\r\n");
    var reader = new DataReader(LIMIT, 1000);
    var in = bytes(folded + "To: a@b\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    assertTrue(reader.feed(in));
    assertInstanceOf(DataResult.HeaderTooBig.class, reader.result());
    assertEquals("QUIT\r\n", in.toString(StandardCharsets.ISO_8859_1), "read to the end of the body, no further");
  }

  @Test
  void manyShortHeadersAndIndentedBodyLinesAreNotOneField() {
    var headers = new StringBuilder();
    for (int i = 0; i < 50; i++) headers.append("X-Field-").append(i).append(": ").append("y".repeat(40)).append("\r\n");
    var body = "\r\n" + "  indented body line\r\n".repeat(100);
    var reader = new DataReader(LIMIT, 1000);
    assertTrue(reader.feed(bytes(headers + body + ".\r\n")));
    assertInstanceOf(DataResult.Complete.class, reader.result());
  }

  @Test
  void simpleBody() {
    assertEquals("Subject: hi\r\n\r\nhello\r\n", content("Subject: hi\r\n\r\nhello\r\n.\r\n"));
  }

  @Test
  void emptyBody() {
    assertArrayEquals(new byte[0], assertInstanceOf(DataResult.Complete.class, read(".\r\n", LIMIT, "")).content());
  }

  @Test
  void bodyOfEmptyLines() {
    assertEquals("\r\n\r\n", content("\r\n\r\n.\r\n"));
  }

  @Test
  void dotUnstuffing() {
    assertEquals(".line\r\n", content("..line\r\n.\r\n"));
    assertEquals(".\r\n", content("..\r\n.\r\n"));
    assertEquals("..\r\n", content("...\r\n.\r\n"));
    assertEquals("a.b\r\n.\r\n", content("a.b\r\n..\r\n.\r\n"));
  }

  @Test
  void unstuffedLeadingDotIsDroppedAsRfc5321Says() {
    assertEquals("x\r\n \r\n", content(".x\r\n. \r\n.\r\n"));
  }

  @Test
  void dotsInsideLinesAreKept() {
    assertEquals("end.\r\n.. no\r\n", content("end.\r\n... no\r\n.\r\n"));
  }

  @Test
  void eightBitContentIsKept() {
    var body = "caf\u00e9 \u00ff\r\n";
    assertEquals(body, content(body + ".\r\n"));
  }

  @Test
  void pipelinedCommandsAfterTheBodyStayInTheBuffer() {
    var result = read("body\r\n.\r\nMAIL FROM:<a@b>\r\nQUIT\r\n", LIMIT, "MAIL FROM:<a@b>\r\nQUIT\r\n");
    assertEquals("body\r\n", text(assertInstanceOf(DataResult.Complete.class, result).content()));
  }

  @Test
  void terminatorSplitAtEveryPosition() {
    var wire = "Subject: x\r\n\r\n..stuffed\r\nlast\r\n.\r\nQUIT\r\n";
    int bodyEnd = wire.indexOf("QUIT");
    for (int split = 0; split <= wire.length(); split++) {
      var reader = new DataReader(LIMIT);
      var in = Unpooled.buffer();
      in.writeCharSequence(wire.substring(0, split), StandardCharsets.ISO_8859_1);
      boolean done = reader.feed(in);
      assertEquals(split >= bodyEnd, done, "complete after the first piece, split at " + split);
      in.writeCharSequence(wire.substring(split), StandardCharsets.ISO_8859_1);
      assertTrue(reader.feed(in), "split at " + split);
      assertEquals("QUIT\r\n", in.toString(StandardCharsets.ISO_8859_1), "split at " + split);
      var content = assertInstanceOf(DataResult.Complete.class, reader.result()).content();
      assertEquals("Subject: x\r\n\r\n.stuffed\r\nlast\r\n", text(content), "split at " + split);
    }
  }

  @Test
  void everyPairOfSplitPositions() {
    var wire = "a\r\n..\r\n.\r\nNOOP\r\n";
    for (int i = 0; i <= wire.length(); i++) {
      for (int j = i; j <= wire.length(); j++) {
        var reader = new DataReader(LIMIT);
        var in = Unpooled.buffer();
        for (var piece : new String[] {wire.substring(0, i), wire.substring(i, j), wire.substring(j)}) {
          in.writeCharSequence(piece, StandardCharsets.ISO_8859_1);
          reader.feed(in);
        }
        assertEquals("a\r\n.\r\n", text(assertInstanceOf(DataResult.Complete.class, reader.result()).content()));
        assertEquals("NOOP\r\n", in.toString(StandardCharsets.ISO_8859_1), i + "/" + j);
      }
    }
  }

  @Test
  void oneOctetAtATime() {
    var wire = "Subject: x\r\n\r\n..\r\nbody\r\n.\r\n";
    var reader = new DataReader(LIMIT);
    for (int i = 0; i < wire.length(); i++) {
      var done = reader.feed(bytes(wire.substring(i, i + 1)));
      assertEquals(i == wire.length() - 1, done, "at " + i);
    }
    assertEquals("Subject: x\r\n\r\n.\r\nbody\r\n", text(assertInstanceOf(DataResult.Complete.class, reader.result()).content()));
  }

  @Test
  void feedingAfterTheEndConsumesNothing() {
    var reader = new DataReader(LIMIT);
    assertTrue(reader.feed(bytes(".\r\n")));
    var more = bytes("QUIT\r\n");
    assertTrue(reader.feed(more));
    assertEquals(6, more.readableBytes());
  }

  @Test
  void resultBeforeTheEndIsAnError() {
    var reader = new DataReader(LIMIT);
    assertFalse(reader.feed(bytes("partial\r\n")));
    assertThrows(IllegalStateException.class, reader::result);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "bare\nline\r\n.\r\n", "bare\rcr\r\n.\r\n", "double\r\r\n.\r\n", "\n.\n", "x\r\n.\n", "x\r\n.\rjunk", "\r.\r",
      "\n", ".\n", "x\r\n.\r\r\n"})
  void bareLineEndingsStopReadingAtOnce(String wire) {
    var reader = new DataReader(LIMIT);
    var in = bytes(wire + "MORE");
    assertTrue(reader.feed(in), wire);
    assertInstanceOf(DataResult.BareLineEnding.class, reader.result());
    assertTrue(in.toString(StandardCharsets.ISO_8859_1).endsWith("MORE"), "stops at the offending octet");
  }

  @Test
  void smugglingAttemptEndsAtTheBareLineFeed() {
    var in = bytes("Subject: x\r\n\r\nhi\n.\r\nMAIL FROM:<evil@example>\r\n");
    var reader = new DataReader(LIMIT);
    assertTrue(reader.feed(in));
    assertInstanceOf(DataResult.BareLineEnding.class, reader.result());
    assertEquals(".\r\nMAIL FROM:<evil@example>\r\n", in.toString(StandardCharsets.ISO_8859_1));
  }

  @Test
  void lineOfThousandOctetsIncludingCrlfIsAccepted() {
    var line = "x".repeat(998) + "\r\n";
    assertEquals(line, content(line + ".\r\n"));
  }

  @Test
  void stuffedDotDoesNotCountTowardTheLineLimit() {
    var line = "." + "x".repeat(997) + "\r\n";
    assertEquals(line, content("." + line + ".\r\n"));
  }

  @Test
  void overLongLineIsReadToTheEndAndRefused() {
    var wire = "ok\r\n" + "x".repeat(999) + "\r\nmore\r\n.\r\nQUIT\r\n";
    assertInstanceOf(DataResult.LineTooLong.class, read(wire, LIMIT, "QUIT\r\n"));
  }

  @Test
  void bodyAtTheSizeLimitIsAccepted() {
    var result = read("12345678\r\n.\r\n", 10, "");
    assertEquals("12345678\r\n", text(assertInstanceOf(DataResult.Complete.class, result).content()));
  }

  @Test
  void bodyOverTheSizeLimitIsReadToTheEndAndRefused() {
    assertInstanceOf(DataResult.TooBig.class, read("123456789\r\n.\r\nQUIT\r\n", 10, "QUIT\r\n"));
  }

  @Test
  void largeBodyOverASmallLimitIsRefusedAcrossManyFeeds() {
    var reader = new DataReader(1000);
    var line = bytes("y".repeat(78) + "\r\n");
    for (int i = 0; i < 10_000; i++) {
      assertFalse(reader.feed(line.duplicate()));
    }
    assertTrue(reader.feed(bytes(".\r\n")));
    assertInstanceOf(DataResult.TooBig.class, reader.result());
  }

  @Test
  void bodyThatGrowsPastTheInitialBufferIsKeptWhole() {
    var body = ("z".repeat(98) + "\r\n").repeat(1000);
    assertEquals(body, content(body + ".\r\n"));
  }

  @Test
  void theFirstRefusalWins() {
    var tooBigThenLong = "123456789\r\n" + "x".repeat(1200) + "\r\n.\r\n";
    assertInstanceOf(DataResult.TooBig.class, read(tooBigThenLong, 10, ""));
    var longThenTooBig = "x".repeat(1200) + "\r\n" + "y".repeat(500) + "\r\n.\r\n";
    assertInstanceOf(DataResult.LineTooLong.class, read(longThenTooBig, 1300, ""));
  }

  @Test
  void bareLineEndingBeatsAnEarlierRefusal() {
    assertInstanceOf(DataResult.BareLineEnding.class, read("123456789\r\nx\ny\r\n.\r\n", 10, "y\r\n.\r\n"));
  }
}

package mta.delivery;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DotStuffingTest {

  private static String encode(String content) {
    return new String(DotStuffing.encode(content.getBytes(ISO_8859_1)), ISO_8859_1);
  }

  @Test
  void leavesOrdinaryContentAloneAndEndsTheData() {
    assertEquals("Subject: hi\r\n\r\nbody\r\n.\r\n", encode("Subject: hi\r\n\r\nbody\r\n"));
  }

  @Test
  void stuffsALeadingDotOnTheFirstLine() {
    assertEquals("..hidden\r\nx\r\n.\r\n", encode(".hidden\r\nx\r\n"));
  }

  @Test
  void stuffsLinesThatAreOrStartWithDots() {
    assertEquals("a\r\n..\r\n...\r\n..b\r\n.\r\n", encode("a\r\n.\r\n..\r\n.b\r\n"));
  }

  @Test
  void leavesDotsInsideALineAlone() {
    assertEquals("a.b\r\nc .\r\n.\r\n", encode("a.b\r\nc .\r\n"));
  }

  @Test
  void addsTheMissingFinalCrlf() {
    assertEquals("a\r\n..b\r\n.\r\n", encode("a\r\n.b"));
    assertEquals("..\r\n.\r\n", encode("."));
  }

  @Test
  void anEmptyMessageIsOnlyTheEndOfData() {
    assertEquals(".\r\n", encode(""));
  }

  @Test
  void keepsEightBitBytesAndLargeContentIntact() {
    var content = "\u00e9t\u00e9 .x\r\n.line\r\n".repeat(100_000);
    var expected = "\u00e9t\u00e9 .x\r\n..line\r\n".repeat(100_000) + ".\r\n";
    assertArrayEquals(expected.getBytes(ISO_8859_1), DotStuffing.encode(content.getBytes(ISO_8859_1)));
  }
}

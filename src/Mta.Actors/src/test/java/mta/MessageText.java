package mta;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;

/**
 * Test support for the fuzz tests: mail text as the DATA reader hands it on (CRLF line ends,
 * lines of at most 998 octets, RFC 5322 §2.1.1), made from arbitrary bytes, and checked.
 */
public final class MessageText {
  /** RFC 5322 §2.1.1: octets in a line, without its CRLF. */
  public static final int MAX_LINE = 998;

  private MessageText() {}

  /** Arbitrary bytes made into message text: lines split at LF, CRs dropped, long lines cut. */
  public static byte[] of(byte[] raw) {
    var out = new ByteArrayOutputStream(raw.length + raw.length / 8 + 2);
    int column = 0;
    for (byte b : raw) {
      if (b == '\r') continue;
      if (b == '\n' || column == MAX_LINE) {
        out.writeBytes(new byte[] {'\r', '\n'});
        column = 0;
        if (b == '\n') continue;
      }
      out.write(b);
      column++;
    }
    if (column > 0) out.writeBytes(new byte[] {'\r', '\n'});
    return out.toByteArray();
  }

  /** Every CR is followed by LF and every LF preceded by CR; no line over 998 octets. */
  public static void assertValid(byte[] content) {
    int column = 0;
    for (int i = 0; i < content.length; i++) {
      byte b = content[i];
      int at = i;
      if (b == '\r') {
        assertTrue(i + 1 < content.length && content[i + 1] == '\n', () -> "bare CR at " + at);
      } else if (b == '\n') {
        assertTrue(i > 0 && content[i - 1] == '\r', () -> "bare LF at " + at);
        column = 0;
      } else {
        assertTrue(++column <= MAX_LINE, () -> "line over " + MAX_LINE + " octets at " + at);
      }
    }
  }
}

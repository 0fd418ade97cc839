package mta.delivery;

/**
 * The DATA transparency procedure (RFC 5321 §4.5.2): a line that starts with a period gets a
 * second one, so no line of the message can be mistaken for the end-of-data marker.
 *
 * <p>Works on raw bytes because messages are large and may hold 8-bit text: one counting pass
 * sizes the output exactly, one copying pass moves the runs between stuffed periods with
 * {@link System#arraycopy}. A line starts after each LF (the content is CRLF text).
 */
public final class DotStuffing {

  private static final byte[] END_OF_DATA = {'.', '\r', '\n'};

  private DotStuffing() {}

  /**
   * The bytes to write after a 354 reply: the dot-stuffed content, a CRLF if the content does
   * not end with one (an empty message gets none), and the {@code .CRLF} end-of-data marker.
   */
  public static byte[] encode(byte[] content) {
    int dots = 0;
    for (int i = 0; i < content.length; i++) if (startsLineWithDot(content, i)) dots++;
    boolean unterminated = content.length > 0 && !endsWithCrlf(content);
    var out = new byte[content.length + dots + (unterminated ? 2 : 0) + END_OF_DATA.length];
    int o = 0;
    int from = 0;
    for (int i = 0, left = dots; left > 0; i++) {
      if (!startsLineWithDot(content, i)) continue;
      System.arraycopy(content, from, out, o, i - from);
      o += i - from;
      out[o++] = '.';
      from = i;
      left--;
    }
    System.arraycopy(content, from, out, o, content.length - from);
    o += content.length - from;
    if (unterminated) {
      out[o++] = '\r';
      out[o++] = '\n';
    }
    System.arraycopy(END_OF_DATA, 0, out, o, END_OF_DATA.length);
    return out;
  }

  private static boolean startsLineWithDot(byte[] content, int i) {
    return content[i] == '.' && (i == 0 || content[i - 1] == '\n');
  }

  private static boolean endsWithCrlf(byte[] content) {
    int n = content.length;
    return n >= 2 && content[n - 2] == '\r' && content[n - 1] == '\n';
  }
}

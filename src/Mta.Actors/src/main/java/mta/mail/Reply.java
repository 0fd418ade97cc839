package mta.mail;

import java.util.List;

/**
 * An SMTP reply: a three-digit code, an optional enhanced status code (RFC 3463) and one or
 * more text lines. Shared by the server (what we say) and the client (what a peer said).
 */
public record Reply(int code, String enhanced, List<String> lines) {

  /** RFC 5321 §4.5.3.1.5: octets in a reply line, CRLF included. */
  public static final int MAX_LINE = 512;

  public Reply {
    lines = List.copyOf(lines);
  }

  public static Reply of(int code, String enhanced, String text) {
    return new Reply(code, enhanced, List.of(text));
  }

  /** A reply without an enhanced code (greeting, EHLO, HELP and 354 carry none). */
  public static Reply plain(int code, String... lines) {
    return new Reply(code, "", List.of(lines));
  }

  public boolean positive() { return code >= 200 && code < 400; }
  public boolean transientFailure() { return code >= 400 && code < 500; }
  public boolean permanentFailure() { return code >= 500; }

  /** The reply's text as one line, as Postfix puts it in logs: {@code 250 2.0.0 Ok}. */
  public String oneLine() {
    var text = String.join(" ", lines);
    return enhanced.isEmpty() ? code + " " + text : code + " " + enhanced + " " + text;
  }

  /**
   * The wire form, multi-line with {@code 250-} continuation, each line CRLF-terminated. Reply
   * text often quotes the client (VRFY, an unsupported option, an address) or a table: any
   * character outside printable US-ASCII becomes {@code ?} (RFC 5321 §4.2: a CR would end the
   * line early, 8-bit text is not allowed) and a line is cut to {@link #MAX_LINE} octets.
   */
  public String wire() {
    var sb = new StringBuilder();
    for (int i = 0; i < lines.size(); i++) {
      int start = sb.length();
      sb.append(code).append(i == lines.size() - 1 ? ' ' : '-');
      if (!enhanced.isEmpty()) sb.append(enhanced).append(' ');
      lines.get(i).codePoints().forEach(c -> sb.append(c >= ' ' && c < 0x7f ? (char) c : '?'));
      sb.setLength(Math.min(sb.length(), start + MAX_LINE - 2));
      sb.append("\r\n");
    }
    return sb.toString();
  }
}

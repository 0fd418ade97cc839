package mta.delivery;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import mta.mail.Reply;

/**
 * Assembles a server's reply lines ({@code 250-first}, {@code 250 last}; CRLF already removed)
 * into {@link Reply} values, like Postfix's {@code smtp_chat_resp}. One reader per connection:
 * it keeps the lines of a multi-line reply until the last one arrives.
 *
 * <p>The enhanced status code (RFC 3463) is taken from the first line's text when it has the
 * form {@code class.subject.detail} and its class matches the reply code's first digit; the
 * same code is then also dropped from the continuation lines. A code of the wrong class (a
 * {@code 250 5.1.0 Ok}) is not an enhanced code at all and stays in the text.
 *
 * <p>A line without a three-digit code, with anything but a space or hyphen after the code,
 * or with a code that differs from the earlier lines of the same reply, throws
 * {@link MalformedReplyException}: the conversation is out of step and cannot be trusted.
 */
public final class ReplyReader {

  /** The server sent something that is not an SMTP reply line; the session should end. */
  public static final class MalformedReplyException extends RuntimeException {
    MalformedReplyException(String message) {
      super(message);
    }
  }

  private static final Pattern ENHANCED = Pattern.compile("([245])\\.\\d{1,3}\\.\\d{1,3}(?= |$)");

  private final List<String> lines = new ArrayList<>();
  private int code;

  /** Takes one line; returns the reply once its last line has arrived. */
  public Optional<Reply> accept(String line) {
    int lineCode = codeOf(line);
    if (!lines.isEmpty() && lineCode != code) {
      lines.clear();
      throw new MalformedReplyException("reply code changed within a multi-line reply: " + line);
    }
    code = lineCode;
    lines.add(line.length() > 4 ? line.substring(4) : "");
    if (line.length() > 3 && line.charAt(3) == '-') return Optional.empty();
    var reply = withEnhancedCode(code, lines);
    lines.clear();
    return Optional.of(reply);
  }

  private int codeOf(String line) {
    boolean wellFormed = line.length() >= 3
        && isDigit(line.charAt(0)) && isDigit(line.charAt(1)) && isDigit(line.charAt(2))
        && (line.length() == 3 || line.charAt(3) == ' ' || line.charAt(3) == '-');
    if (!wellFormed) {
      lines.clear();
      throw new MalformedReplyException("malformed server reply: " + line);
    }
    return Integer.parseInt(line, 0, 3, 10);
  }

  private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

  private static Reply withEnhancedCode(int code, List<String> texts) {
    var m = ENHANCED.matcher(texts.getFirst());
    if (!m.lookingAt() || m.group(1).charAt(0) - '0' != code / 100) return new Reply(code, "", texts);
    var enhanced = m.group();
    var stripped = texts.stream()
        .map(t -> t.startsWith(enhanced + " ") ? t.substring(enhanced.length() + 1)
            : t.equals(enhanced) ? "" : t)
        .toList();
    return new Reply(code, enhanced, stripped);
  }
}

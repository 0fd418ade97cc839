package mta.ingest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.regex.Pattern;
import mta.maps.LookupFailure;
import mta.maps.Maps;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code header_checks}, {@code mime_header_checks}, {@code nested_header_checks} and
 * {@code body_checks} (Postfix's {@code cleanup_message.c} and {@code header_checks(5)}).
 *
 * <p>mime4j walks the MIME structure; each logical header (folded lines joined with a newline)
 * goes to one table: {@code Content-*} and {@code MIME-Version} headers, and every header of a
 * multipart body part, to {@code mime_header_checks}; the other headers of the message to
 * {@code header_checks}, and those of an attached message ({@code message/rfc822}) to
 * {@code nested_header_checks}. Each line of each body segment (preambles and epilogues
 * included), up to {@code body_checks_size_limit} octets per segment, goes to
 * {@code body_checks}.
 *
 * <p>Actions: {@code REJECT [text]} (the message is refused, 550 5.7.1 by default),
 * {@code DISCARD [text]} (accepted and dropped; inspection stops), {@code HOLD [text]},
 * {@code WARN [text]}, {@code INFO [text]}, {@code IGNORE} (the line is deleted),
 * {@code REPLACE text}, {@code PREPEND text} (a line is inserted before this one, and not
 * itself inspected), {@code DUNNO} and {@code OK}. Each fired action is logged as Postfix does.
 *
 * <p>The message is rewritten only when an action changes it; the rest stays byte for byte as
 * received: the parts mime4j hands out are found again in the original bytes, and what lies
 * between them (blank lines, MIME boundaries) is copied as it is.
 */
final class ContentChecks {
  private static final Logger log = LoggerFactory.getLogger("cleanup");
  private static final byte[] CRLF = {'\r', '\n'};
  /** A REJECT text that starts with its own enhanced status code: {@code 4.7.0 try later}. */
  private static final Pattern DSN = Pattern.compile("^([45]\\.\\d{1,3}\\.\\d{1,3})\\s+(.*)", Pattern.DOTALL);

  /** How the inspection ended. */
  sealed interface Result {
    /** Queue {@code content} (the original array when nothing changed). */
    record Pass(byte[] content, boolean hold) implements Result {}

    /** Refuse the message: {@code dsn} is the enhanced status code, {@code text} the reason. */
    record Reject(String dsn, String text) implements Result {}

    /** Accept and drop the message. */
    record Discard() implements Result {}
  }

  private final Maps header;
  private final Maps mimeHeader;
  private final Maps nestedHeader;
  private final Maps body;
  private final int bodySizeLimit;
  private final MimeConfig mimeConfig;

  ContentChecks(Maps header, Maps mimeHeader, Maps nestedHeader, Maps body, int bodySizeLimit) {
    this.header = header;
    this.mimeHeader = mimeHeader;
    this.nestedHeader = nestedHeader;
    this.body = body;
    this.bodySizeLimit = bodySizeLimit;
    // Lenient limits: a message's size is already bounded by message_size_limit.
    this.mimeConfig = MimeConfig.custom().setMaxLineLen(-1).setMaxHeaderCount(-1).setMaxHeaderLen(-1).setMaxContentLen(-1).build();
  }

  boolean isEmpty() {
    return header.isEmpty() && mimeHeader.isEmpty() && nestedHeader.isEmpty() && body.isEmpty();
  }

  /**
   * Inspects a message.
   *
   * @param logPrefix what each log line starts with: {@code QUEUEID}
   * @param logSuffix what follows the inspected text: {@code from host[ip]; from=<a> to=<b> proto=ESMTP helo=<h>}
   * @throws LookupFailure when a table cannot answer
   */
  Result inspect(byte[] content, String logPrefix, String logSuffix) {
    if (isEmpty()) return new Result.Pass(content, false);
    var run = new Run(content, logPrefix, logSuffix);
    try {
      return run.walk();
    } catch (IOException | MimeException e) {
      log.warn("warning: {}: MIME structure not understood ({}); inspected as far as it went", logPrefix, e.getMessage());
      return new Result.Pass(content, run.hold);
    }
  }

  /** What a table said about one line. */
  private record Action(String command, String text) {
    static Action parse(String value) {
      var v = value.strip();
      int space = 0;
      while (space < v.length() && !Character.isWhitespace(v.charAt(space))) space++;
      return new Action(v.substring(0, space).toUpperCase(Locale.ROOT), v.substring(space).strip());
    }
  }

  /** One inspection: the splice of the original bytes and the changes, and what was decided. */
  private final class Run {
    final byte[] content;
    final String logPrefix;
    final String logSuffix;
    final ByteArrayOutputStream out;
    /** How far the original has been copied to {@link #out}. */
    int cursor;
    /** Where the last part mime4j handed out ends in the original. */
    int scan;
    /** A part could not be found in the original: no more edits, to be safe. */
    boolean lost;
    boolean changed;
    boolean hold;
    Result end;

    Run(byte[] content, String logPrefix, String logSuffix) {
      this.content = content;
      this.logPrefix = logPrefix;
      this.logSuffix = logSuffix;
      this.out = new ByteArrayOutputStream(content.length + 256);
    }

    Result walk() throws IOException, MimeException {
      var stream = new MimeTokenStream(mimeConfig);
      stream.parse(new ByteArrayInputStream(content));
      var entities = new ArrayDeque<Boolean>(); // true: a message, false: a body part
      int messages = 0;
      for (var state = stream.getState(); state != EntityState.T_END_OF_STREAM && end == null; state = stream.next()) {
        switch (state) {
          case T_START_MESSAGE -> {
            entities.push(true);
            messages++;
          }
          case T_START_BODYPART -> entities.push(false);
          case T_END_MESSAGE, T_END_BODYPART -> {
            if (Boolean.TRUE.equals(entities.pop())) messages--;
          }
          case T_FIELD -> {
            var name = stream.getField().getName();
            var raw = stream.getField().getRaw().toByteArray();
            header(raw, tableFor(name, Boolean.TRUE.equals(entities.peek()), messages));
          }
          case T_BODY, T_PREAMBLE, T_EPILOGUE -> body(stream.getInputStream().readAllBytes());
          default -> { }
        }
      }
      if (end != null) return end;
      if (!changed) return new Result.Pass(content, hold);
      out.write(content, cursor, content.length - cursor);
      return new Result.Pass(out.toByteArray(), hold);
    }

    private Maps tableFor(String name, boolean inMessage, int messages) {
      var n = name.toLowerCase(Locale.ROOT);
      boolean mime = n.startsWith("content-") || n.equals("mime-version");
      if (mime || !inMessage) return mimeHeader;
      return messages > 1 ? nestedHeader : header;
    }

    /** Where a part handed out by mime4j lies in the original, or -1; parts come in order. */
    private int locate(byte[] part) {
      int at = lost ? -1 : indexOf(content, part, scan);
      if (at < 0) {
        if (!lost) log.warn("warning: {}: cannot locate a MIME part in the message; no further edits", logPrefix);
        lost = true;
        return -1;
      }
      scan = at + part.length;
      return at;
    }

    private void header(byte[] raw, Maps table) {
      int at = locate(raw);
      if (table.isEmpty()) return;
      var text = new String(raw, StandardCharsets.UTF_8).replace("\r\n", "\n");
      var value = table.find(text);
      if (value.isEmpty()) return;
      apply(Action.parse(value.get()), "header", text, at, raw.length);
    }

    private void body(byte[] segment) {
      int at = locate(segment);
      if (body.isEmpty()) return;
      int limit = Math.min(segment.length, bodySizeLimit);
      int start = 0;
      while (start < limit && end == null) {
        int eol = indexOf(segment, CRLF, start);
        int stop = eol < 0 ? segment.length : eol;
        var line = new String(segment, start, stop - start, StandardCharsets.UTF_8);
        var value = body.find(line);
        if (value.isPresent()) apply(Action.parse(value.get()), "body", line, at < 0 ? -1 : at + start, stop - start);
        start = stop + 2;
      }
    }

    /** Carries out an action on one header or body line, at {@code at} in the original (-1: unknown), without its CRLF. */
    private void apply(Action action, String what, String text, int at, int length) {
      switch (action.command()) {
        case "REJECT" -> {
          logAction("reject", what, text, action.text());
          var reason = action.text().isEmpty() ? "Message content rejected" : action.text();
          var m = DSN.matcher(reason);
          end = m.matches() ? new Result.Reject(m.group(1), m.group(2)) : new Result.Reject("5.7.1", reason);
        }
        case "DISCARD" -> {
          logAction("discard", what, text, action.text());
          end = new Result.Discard();
        }
        case "HOLD" -> {
          logAction("hold", what, text, action.text());
          hold = true;
        }
        case "WARN" -> logAction("warning", what, text, action.text());
        case "INFO" -> logAction("info", what, text, action.text());
        case "IGNORE" -> edit(at, length, null, null);
        case "REPLACE" -> edit(at, length, action.text(), null);
        case "PREPEND" -> edit(at, 0, "", action.text());
        case "DUNNO", "OK" -> { }
        default -> log.warn("warning: {}: unsupported or unknown action in {} checks: {}", logPrefix, what, action.command());
      }
    }

    /**
     * Replaces {@code length} octets at {@code at} in the output: with {@code replacement}
     * (null: the line and its CRLF are deleted), after {@code before} as a line of its own, if given.
     */
    private void edit(int at, int length, String replacement, String before) {
      if (at < cursor) return; // not located
      out.write(content, cursor, at - cursor);
      cursor = at + length;
      if (before != null) {
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(CRLF);
      }
      if (replacement != null) {
        out.writeBytes(replacement.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8));
      } else if (cursor + 1 < content.length && content[cursor] == '\r' && content[cursor + 1] == '\n') {
        cursor += 2;
      }
      changed = true;
    }

    /** {@code QUEUEID: reject: header Subject: spam from host[ip]; from=<a> to=<b> proto=ESMTP helo=<h>: text}. */
    private void logAction(String action, String what, String text, String reason) {
      var shown = text.replace('\n', ' ');
      log.info("{}: {}: {} {} {}{}", logPrefix, action, what, shown.length() > 200 ? shown.substring(0, 200) : shown,
          logSuffix, reason.isEmpty() ? "" : ": " + reason);
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    if (needle.length == 0) return from;
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }
}

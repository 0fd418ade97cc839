package mta.smtp;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Reads one DATA body (RFC 5321 §4.1.1.4) as it arrives, in pieces of any size: it undoes dot
 * stuffing, stops right after the terminating {@code CRLF.CRLF} (what follows is the client's
 * next, pipelined, command and stays in the buffer), and keeps at most {@code sizeLimit}
 * octets. A body found too big or with an over-long line is read to its end and dropped, so
 * the session can answer and carry on; a bare CR or LF ends reading at once, because the end
 * of the body is then ambiguous (SMTP smuggling). One header field (with its continuation
 * lines) over {@code header_size_limit} is refused the same way, so a client cannot fold one
 * header on and on. One instance per DATA command.
 */
public final class DataReader {

  /** The largest body an array holds. */
  public static final long MAX_SIZE_LIMIT = Integer.MAX_VALUE - 8;

  /** Octets in a body line, CRLF included (RFC 5321 §4.5.3.1.6). */
  public static final int MAX_LINE = 1000;

  private enum Position { LINE_START, AFTER_DOT, AFTER_DOT_CR, IN_LINE, AFTER_CR }

  /** Postfix's default {@code header_size_limit}. */
  public static final int DEFAULT_HEADER_SIZE_LIMIT = 102_400;

  private final int sizeLimit;
  private final int headerSizeLimit;
  /** Still in the header block: no empty line yet. */
  private boolean inHeader = true;
  private boolean contentLineStart = true;
  private int fieldLength;
  private byte[] content;
  private int size;
  private Position position = Position.LINE_START;
  private int lineLength;
  private DataResult refusal;
  private DataResult result;

  /** @param sizeLimit {@code message_size_limit}: octets of content, after unstuffing */
  public DataReader(long sizeLimit) {
    this(sizeLimit, DEFAULT_HEADER_SIZE_LIMIT);
  }

  /** @param headerSizeLimit {@code header_size_limit}: octets of one header field, continuation lines included */
  public DataReader(long sizeLimit, int headerSizeLimit) {
    if (sizeLimit < 0 || sizeLimit > MAX_SIZE_LIMIT) throw new IllegalArgumentException("size limit " + sizeLimit);
    if (headerSizeLimit < 1) throw new IllegalArgumentException("header size limit " + headerSizeLimit);
    this.sizeLimit = (int) sizeLimit;
    this.headerSizeLimit = headerSizeLimit;
    this.content = new byte[Math.min(this.sizeLimit, 8192)];
  }

  /** Consumes body bytes; true once the body has ended (then {@link #result()} is ready). */
  public boolean feed(ByteBuf in) {
    if (result != null) return true;
    int stop = in.forEachByte(in.readerIndex(), in.readableBytes(), this::accept);
    in.readerIndex(stop < 0 ? in.writerIndex() : stop + 1);
    return result != null;
  }

  public DataResult result() {
    if (result == null) throw new IllegalStateException("the body has not ended yet");
    return result;
  }

  /** One octet; false ends the body. */
  private boolean accept(byte b) {
    // RFC 5321 §4.5.3.1.6 does not count the dot doubled for transparency.
    boolean stuffedDot = position == Position.AFTER_DOT && b == '.';
    if (!stuffedDot && ++lineLength > MAX_LINE) refuse(new DataResult.LineTooLong());
    switch (position) {
      case LINE_START -> {
        if (b == '.') position = Position.AFTER_DOT;
        else return text(b);
      }
      case AFTER_DOT -> {
        // ".." is a stuffed dot; RFC 5321 §4.5.2 drops the leading dot of any other line too.
        if (b == '\r') position = Position.AFTER_DOT_CR;
        else return text(b);
      }
      case AFTER_DOT_CR -> {
        if (b != '\n') return end(new DataResult.BareLineEnding());
        return end(refusal != null ? refusal : new DataResult.Complete(Arrays.copyOf(content, size)));
      }
      case IN_LINE -> {
        return text(b);
      }
      case AFTER_CR -> {
        if (b != '\n') return end(new DataResult.BareLineEnding());
        keep((byte) '\r');
        keep((byte) '\n');
        position = Position.LINE_START;
        lineLength = 0;
      }
    }
    return true;
  }

  /** An octet inside a line, or the CR that should end it. */
  private boolean text(byte b) {
    if (b == '\n') return end(new DataResult.BareLineEnding());
    if (b == '\r') {
      position = Position.AFTER_CR;
    } else {
      keep(b);
      position = Position.IN_LINE;
    }
    return true;
  }

  private void keep(byte b) {
    if (refusal != null) return;
    if (inHeader) header(b);
    if (refusal != null) return;
    if (size == sizeLimit) {
      refuse(new DataResult.TooBig());
      return;
    }
    if (size == content.length) content = Arrays.copyOf(content, (int) Math.min(2L * size, sizeLimit));
    content[size++] = b;
  }

  /** Measures header fields: a line that does not start with white space starts a new one. */
  private void header(byte b) {
    if (contentLineStart) {
      contentLineStart = false;
      if (b == '\r') {
        inHeader = false;
        return;
      }
      if (b != ' ' && b != '\t') fieldLength = 0;
    }
    if (b == '\n') contentLineStart = true;
    if (++fieldLength > headerSizeLimit) refuse(new DataResult.HeaderTooBig());
  }

  /** The first reason to refuse wins; the content is dropped and reading goes on to the end. */
  private void refuse(DataResult reason) {
    if (refusal != null) return;
    refusal = reason;
    content = null;
  }

  private boolean end(DataResult outcome) {
    result = outcome;
    content = null;
    return false;
  }
}

package mta.smtp;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Cuts CRLF-terminated command lines out of the bytes a connection delivers. A partial line is
 * left in the buffer for the next read, so pipelined commands come out one at a time. A line
 * over 1000 octets is discarded as it arrives, never buffered whole. (RFC 5321 §4.5.3.1.4 gives
 * commands 512 octets, but ESMTP parameters may lengthen them; like Postfix, which allows 2048,
 * we are generous, and the text line limit is the natural bound.)
 * One instance per connection: it remembers that it is in the middle of discarding.
 */
public final class CommandLineReader {

  /** Octets in a command line, CRLF included. */
  public static final int MAX_LINE = 1000;

  public sealed interface Line {
    /**
     * @param text the line decoded as UTF-8, without CRLF
     * @param pipelined more input was already waiting behind this line when it was read: the
     *     client did not wait for our reply (for {@code reject_unauth_pipelining})
     */
    record Command(String text, boolean pipelined) implements Line {
      public Command(String text) {
        this(text, false);
      }
    }

    /** The line was over {@link #MAX_LINE}; it has been discarded up to and including its LF. */
    record TooLong() implements Line {}

    /**
     * A LF without CR before it. Postfix (smtpd_forbid_bare_newline) answers and hangs up: a
     * peer that ends lines this way may also end DATA this way, where it smuggles messages.
     */
    record BareLineEnding() implements Line {}
  }

  private boolean discarding;

  /** The next complete line, or empty when more bytes are needed. */
  public Optional<Line> next(ByteBuf in) {
    int start = in.readerIndex();
    if (discarding) {
      int lf = in.forEachByte(start, in.readableBytes(), ByteProcessor.FIND_LF);
      if (lf < 0) {
        in.skipBytes(in.readableBytes());
        return Optional.empty();
      }
      in.readerIndex(lf + 1);
      discarding = false;
      return Optional.of(new Line.TooLong());
    }
    int lf = in.forEachByte(start, Math.min(in.readableBytes(), MAX_LINE), ByteProcessor.FIND_LF);
    if (lf < 0) {
      if (in.readableBytes() < MAX_LINE) return Optional.empty();
      discarding = true;
      return next(in);
    }
    in.readerIndex(lf + 1);
    if (lf == start || in.getByte(lf - 1) != '\r') return Optional.of(new Line.BareLineEnding());
    return Optional.of(new Line.Command(in.toString(start, lf - 1 - start, StandardCharsets.UTF_8), in.isReadable()));
  }
}

package mta.smtp;

/**
 * How a DATA body ended, as {@link DataReader} saw it. Only {@link Complete} carries content:
 * once a body is known to be refused the reader stops keeping it, so a refused message costs
 * no memory.
 */
public sealed interface DataResult {

  /** The body up to (not including) the final {@code .} line, dot-unstuffed, CRLF line ends. */
  record Complete(byte[] content) implements DataResult {}

  /** More than {@code message_size_limit} octets. */
  record TooBig() implements DataResult {}

  /** One header field, continuation lines included, over {@code header_size_limit}. */
  record HeaderTooBig() implements DataResult {}

  /** A line over 1000 octets including CRLF (RFC 5321 §4.5.3.1.6). */
  record LineTooLong() implements DataResult {}

  /**
   * A bare LF or bare CR: a line ending that other servers may read differently from us, the
   * raw material of SMTP smuggling. The reader stops at once; the session answers and closes.
   */
  record BareLineEnding() implements DataResult {}
}

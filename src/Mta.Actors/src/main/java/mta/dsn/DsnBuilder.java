package mta.dsn;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.TimeZone;
import java.util.concurrent.ThreadLocalRandom;
import mta.dsn.Notice.Kind;
import mta.mail.Dsn;
import mta.mail.MailAddress;
import org.apache.james.mime4j.dom.Body;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.message.BasicBodyFactory;
import org.apache.james.mime4j.message.BodyPartBuilder;
import org.apache.james.mime4j.message.DefaultMessageWriter;
import org.apache.james.mime4j.message.MultipartBuilder;
import org.apache.james.mime4j.stream.NameValuePair;
import org.apache.james.mime4j.stream.RawField;

/**
 * Writes a {@link Notice} as an RFC 3464 delivery status notification, the way Postfix's
 * bounce daemon does (bounce_notify_util.c): a multipart/report with the notification text,
 * the message/delivery-status fields and the original message or its headers. The result
 * has CRLF line endings throughout and is ready to be queued from
 * {@link Notice#envelopeSender()} to {@link Notice#to()}. Immutable and thread-safe.
 */
public final class DsnBuilder {
  /** Postfix's bounce_print_wrap: lines of at most 79 columns, continued with 4 spaces. */
  private static final int WRAP_COLUMNS = 79;
  private static final String CONTINUATION = "    ";
  /** The longest word {@link #wrap} keeps whole: with the continuation it fills 994 octets. */
  private static final int LONGEST_WORD = 990;
  private static final String DIAGNOSTIC_TYPE = "X-MTA";
  private static final DateTimeFormatter RFC5322_DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);
  private static final DateTimeFormatter MESSAGE_ID_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss", Locale.ROOT);

  private final String myhostname;
  private final long bounceSizeLimit;
  private final Duration maximalQueueLifetime;
  private final Clock clock;

  /**
   * @param myhostname Reporting-MTA, the From domain and the Message-ID domain
   * @param bounceSizeLimit bounce_size_limit: the largest original returned whole (0: no limit)
   * @param maximalQueueLifetime maximal_queue_lifetime: Will-Retry-Until is arrival plus this
   * @param clock the Date of the notice and the delay it reports
   */
  public DsnBuilder(String myhostname, long bounceSizeLimit, Duration maximalQueueLifetime, Clock clock) {
    this.myhostname = myhostname;
    this.bounceSizeLimit = bounceSizeLimit;
    this.maximalQueueLifetime = maximalQueueLifetime;
    this.clock = clock;
  }

  /** The notice as a message, CRLF line endings. */
  public byte[] build(Notice notice, OriginalMessage original) {
    var now = ZonedDateTime.now(clock);
    var content = crlf(original.content());
    boolean headersOnly = notice.postmasterCopy() || notice.kind() != Kind.FAILURE || original.ret() == Dsn.Ret.HDRS
        || (bounceSizeLimit > 0 && content.length > bounceSizeLimit);
    var report = MultipartBuilder.create("report")
        .setPreamble("This is a MIME-encapsulated message.")
        .addBodyPart(part("Notification", text(notification(notice, original, now)))
            .setContentType("text/plain", new NameValuePair("charset", "us-ascii")))
        .addBodyPart(part("Delivery report", binary(lines(deliveryStatus(notice, original))))
            .setContentType("message/delivery-status"))
        .addBodyPart(part((notice.kind() == Kind.SUCCESS ? "" : "Undelivered ") + (headersOnly ? "Message Headers" : "Message"),
                binary(headersOnly ? headerSection(content) : content))
            .setContentType(headersOnly ? "text/rfc822-headers" : "message/rfc822")
            .setContentTransferEncoding(eightBit(content) ? "8bit" : "7bit"))
        .build();
    var message = Message.Builder.of()
        .setFrom(new Mailbox("Mail Delivery System", "MAILER-DAEMON", myhostname))
        .setTo(mailbox(notice.to()))
        .setSubject(notice.kind().subject(notice.postmasterCopy()))
        .setDate(Date.from(now.toInstant()), TimeZone.getTimeZone(now.getZone()))
        .setMessageId("<" + MESSAGE_ID_TIME.format(now) + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong())
            + "@" + myhostname + ">")
        .addField(new RawField("Auto-Submitted", "auto-replied"))
        .setBody(report)
        .setContentType("multipart/report",
            new NameValuePair("report-type", "delivery-status"), new NameValuePair("boundary", boundary(original, now, content)))
        .build();
    var out = new ByteArrayOutputStream(content.length + 4096);
    try {
      new DefaultMessageWriter().writeMessage(message, out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a DSN to memory", e);
    }
    return out.toByteArray();
  }

  // --- the parts ------------------------------------------------------------------------

  /** The human-readable part: boilerplate (not for the postmaster), then each recipient's reason. */
  private List<String> notification(Notice notice, OriginalMessage original, ZonedDateTime now) {
    var lines = new ArrayList<String>();
    if (!notice.postmasterCopy()) {
      lines.addAll(boilerplate(notice.kind(), Duration.between(original.arrival(), now.toInstant())).lines().toList());
    }
    for (var r : notice.recipients()) {
      lines.add("");
      lines.addAll(wrap("<" + printable(r.recipient()) + ">: " + printable(r.reason())));
    }
    return lines;
  }

  /** Postfix's default bounce templates (bounce.cf.default). */
  private String boilerplate(Kind kind, Duration delayed) {
    var middle = switch (kind) {
      case FAILURE -> """
          I'm sorry to have to inform you that your message could not
          be delivered to one or more recipients. It's attached below.

          For further assistance, please send mail to postmaster.

          If you do so, please include this problem report. You can
          delete your own text from the attached returned message.
          """;
      case DELAY -> """
          ####################################################################
          # THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
          ####################################################################

          Your message could not be delivered for %d hour(s).
          It will be retried until it is %d day(s) old.

          For further assistance, please send mail to postmaster.

          If you do so, please include this problem report. You can
          delete your own text from the attached returned message.
          """.formatted(delayed.toHours(), maximalQueueLifetime.toDays());
      case SUCCESS -> """
          Your message was successfully delivered to the destination(s)
          listed below. If the message was delivered to mailbox you will
          receive no further notifications. Otherwise you may still receive
          notifications of mail delivery errors from other systems.
          """;
    };
    return "This is the mail system at host " + myhostname + ".\n\n" + middle + "\n                   The mail system\n";
  }

  /** The message/delivery-status fields: per message, then a block per recipient. */
  private List<String> deliveryStatus(Notice notice, OriginalMessage original) {
    var fields = new ArrayList<String>();
    fields.add("Reporting-MTA: dns; " + myhostname);
    if (!original.envid().isEmpty()) fields.addAll(wrap("Original-Envelope-Id: " + printable(original.envid())));
    fields.add("X-Queue-ID: " + original.queueId());
    fields.addAll(wrap("X-Sender: rfc822; " + printable(original.sender())));
    fields.add("Arrival-Date: " + date(original.arrival()));
    for (var r : notice.recipients()) {
      fields.add("");
      fields.addAll(wrap("Final-Recipient: rfc822; " + printable(r.recipient())));
      if (!r.originalRecipient().isEmpty()) {
        var orcpt = printable(r.originalRecipient());
        fields.addAll(wrap("Original-Recipient: " + (orcpt.contains(";") ? orcpt : "rfc822; " + orcpt)));
      }
      fields.add("Action: " + r.action().field());
      fields.add("Status: " + r.status());
      if (!r.remoteMta().isEmpty()) fields.addAll(wrap("Remote-MTA: dns; " + printable(r.remoteMta())));
      fields.addAll(wrap("Diagnostic-Code: " + (r.smtpReply().isEmpty()
          ? DIAGNOSTIC_TYPE + "; " + printable(r.reason())
          : "smtp; " + printable(r.smtpReply()))));
      if (r.action() == Action.DELAYED) fields.add("Will-Retry-Until: " + date(original.arrival().plus(maximalQueueLifetime)));
    }
    return fields;
  }

  /** The header section of a message (CRLF endings), without the empty line that ends it. */
  static byte[] headerSection(byte[] content) {
    if (content.length >= 2 && content[0] == '\r' && content[1] == '\n') return new byte[0];
    for (int i = 0; i + 3 < content.length; i++) {
      if (content[i] == '\r' && content[i + 1] == '\n' && content[i + 2] == '\r' && content[i + 3] == '\n') {
        return Arrays.copyOf(content, i + 2);
      }
    }
    return content;
  }

  // --- helpers --------------------------------------------------------------------------

  private static BodyPartBuilder part(String description, Body body) {
    return BodyPartBuilder.create().setField(new RawField("Content-Description", description)).setBody(body);
  }

  private static Body text(List<String> lines) {
    return BasicBodyFactory.INSTANCE.textBody(lines(lines), StandardCharsets.US_ASCII);
  }

  private static Body binary(byte[] bytes) {
    return BasicBodyFactory.INSTANCE.binaryBody(bytes);
  }

  private static byte[] lines(List<String> lines) {
    return (String.join("\r\n", lines) + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private Mailbox mailbox(String address) {
    var a = MailAddress.parse(address);
    return new Mailbox(a.localPart(), a.domain().isEmpty() ? myhostname : a.domain());
  }

  /** Postfix's boundary, {@code queueid.time/myhostname}, made longer in the unlikely case the original holds it. */
  private String boundary(OriginalMessage original, ZonedDateTime now, byte[] content) {
    var boundary = original.queueId() + "." + now.toEpochSecond() + "/" + myhostname;
    var text = new String(content, StandardCharsets.ISO_8859_1);
    while (text.contains("--" + boundary)) boundary += "." + Integer.toHexString(ThreadLocalRandom.current().nextInt());
    return boundary;
  }

  private String date(Instant instant) {
    return RFC5322_DATE.format(instant.atZone(clock.getZone()));
  }

  /**
   * Greedy word wrap at {@link #WRAP_COLUMNS}, continued with 4 spaces; a word longer than a
   * line stays whole up to {@link #LONGEST_WORD} characters and is cut beyond, so that no line
   * passes RFC 5322's 998 octets (an address near the SMTP command limit, quoted by a remote reply).
   */
  static List<String> wrap(String text) {
    var lines = new ArrayList<String>();
    var line = new StringBuilder();
    boolean fresh = true;
    for (var whole : text.strip().split(" +")) {
      for (int from = 0; from < whole.length(); from += LONGEST_WORD) {
        var word = whole.substring(from, Math.min(whole.length(), from + LONGEST_WORD));
        if (!fresh && line.length() + 1 + word.length() > WRAP_COLUMNS) {
          lines.add(line.toString());
          line = new StringBuilder(CONTINUATION);
          fresh = true;
        }
        if (!fresh) line.append(' ');
        line.append(word);
        fresh = false;
      }
    }
    lines.add(line.toString());
    return lines;
  }

  /** Control and non-ASCII characters masked, as Postfix masks bounce log text. */
  static String printable(String text) {
    var sb = new StringBuilder(text.length());
    text.codePoints().forEach(c -> sb.append(c >= 0x20 && c < 0x7f ? (char) c : '?'));
    return sb.toString();
  }

  /** Bare LF line endings made CRLF; CRLF kept. */
  static byte[] crlf(byte[] content) {
    var out = new ByteArrayOutputStream(content.length + content.length / 32);
    for (int i = 0; i < content.length; i++) {
      if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r')) out.write('\r');
      out.write(content[i]);
    }
    return out.toByteArray();
  }

  private static boolean eightBit(byte[] content) {
    for (byte b : content) if (b < 0) return true;
    return false;
  }
}

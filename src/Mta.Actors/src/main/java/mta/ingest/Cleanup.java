package mta.ingest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import mta.mail.Envelope;
import mta.mail.MailAddress;
import mta.mail.Reply;
import mta.maps.KeyOrder;
import mta.maps.LookupFailure;
import mta.maps.Maps;
import org.apache.james.mime4j.dom.Header;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.stream.MimeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Postfix's cleanup: prepares a received message for the queue. It rewrites the envelope
 * ({@link AddressMapping}: canonical maps, virtual alias expansion), inspects the content
 * ({@link ContentChecks}: header, MIME header and body checks), and adds our Received header
 * on top, and a Message-Id and a Date when the message has none (RFC 5322 requires Date;
 * Message-Id is what operators trace mail by). See the package manual page.
 */
public final class Cleanup {
  private static final Logger log = LoggerFactory.getLogger("cleanup");
  /** RFC 5322 §2.1.1: octets in a header line, without its CRLF. */
  private static final int MAX_HEADER_LINE = 998;
  /**
   * A host name has at most 255 octets (RFC 1035 §2.3.4); a longer HELO argument is not one,
   * and quoted whole it would push the Received line past 998 octets.
   */
  private static final int MAX_HELO_IN_RECEIVED = 255;
  private static final DateTimeFormatter RFC_5322 = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z (zzz)", Locale.ROOT);

  /**
   * What cleanup reads.
   *
   * @param myorigin the domain for addresses without one
   * @param localDomain whether a domain is ours (for the bare {@code user} keys of virtual and
   *     canonical tables)
   */
  public record Settings(
      String myhostname,
      String myorigin,
      KeyOrder keys,
      Predicate<String> localDomain,
      Maps canonicalMaps,
      Maps senderCanonicalMaps,
      Maps recipientCanonicalMaps,
      Maps virtualAliasMaps,
      int virtualAliasExpansionLimit,
      int virtualAliasRecursionLimit,
      Maps headerChecks,
      Maps mimeHeaderChecks,
      Maps nestedHeaderChecks,
      Maps bodyChecks,
      int bodyChecksSizeLimit) {

    /** No rewriting and no checks: Received, Message-Id and Date only. */
    public static Settings plain(String myhostname) {
      return new Settings(myhostname, myhostname, new KeyOrder(""), d -> false, Maps.NONE, Maps.NONE, Maps.NONE,
          Maps.NONE, 1000, 1000, Maps.NONE, Maps.NONE, Maps.NONE, Maps.NONE, 51200);
    }
  }

  /** What smtpd knows of the transaction, for the Received header and the log. */
  /**
   * @param tls {@code TLSv1.3 with cipher ... (256/256 bits)} when the session was encrypted, else null
   * @param authenticatedSender the SMTP AUTH user, else null
   */
  public record Origin(String heloName, String clientHostname, String clientAddress, String protocol, String tls,
      String authenticatedSender) {
    public Origin(String heloName, String clientHostname, String clientAddress, String protocol) {
      this(heloName, clientHostname, clientAddress, protocol, null, null);
    }
  }

  /** What becomes of a message. */
  public sealed interface Outcome {
    /**
     * Queue it: the envelope as rewritten, the content as inspected and completed.
     *
     * @param hold a HOLD action fired in the content checks
     */
    record Queue(MailAddress sender, List<MailAddress> recipients, byte[] content, String messageId, boolean hold)
        implements Outcome {}

    /** Accept it and queue nothing (a DISCARD action); the 250 goes out as usual. */
    record Discard() implements Outcome {}

    /** Refuse it with this reply: content rejected (5xx) or not possible now (4xx). */
    record Refuse(Reply reply) implements Outcome {}
  }

  private final String myhostname;
  private final AddressMapping mapping;
  private final ContentChecks checks;
  private final MimeConfig mimeConfig;

  public Cleanup(Settings settings) {
    this.myhostname = settings.myhostname();
    this.mapping = new AddressMapping(settings);
    this.checks = new ContentChecks(settings.headerChecks(), settings.mimeHeaderChecks(), settings.nestedHeaderChecks(),
        settings.bodyChecks(), settings.bodyChecksSizeLimit());
    // Lenient limits: a header block's size is already bounded by message_size_limit.
    this.mimeConfig = MimeConfig.custom().setMaxLineLen(-1).setMaxHeaderCount(-1).setMaxHeaderLen(-1).build();
  }

  public Outcome clean(String queueId, Envelope envelope, Origin origin, byte[] content, ZonedDateTime now) {
    var helo = origin.heloName() == null ? origin.clientHostname() : origin.heloName();
    var logSuffix = "from " + origin.clientHostname() + "[" + origin.clientAddress() + "]; from=<" + envelope.sender() + ">"
        + (envelope.recipients().isEmpty() ? "" : " to=<" + envelope.recipients().getFirst() + ">")
        + " proto=" + origin.protocol() + " helo=<" + helo + ">";
    MailAddress sender;
    var recipients = new LinkedHashSet<MailAddress>();
    ContentChecks.Result inspected;
    try {
      sender = mapping.sender(envelope.sender());
      for (var recipient : envelope.recipients()) recipients.addAll(mapping.recipient(recipient));
      inspected = checks.inspect(content, queueId, logSuffix);
    } catch (AddressMapping.ExpansionError e) {
      log.warn("warning: {}: {} -- message not accepted, try again later", queueId, e.getMessage());
      return new Outcome.Refuse(Reply.of(451, "4.6.0", "Alias expansion error"));
    } catch (LookupFailure e) {
      log.warn("warning: {}: {} -- message not accepted, try again later", queueId, e.getMessage());
      return new Outcome.Refuse(Reply.of(451, "4.3.0", "Temporary lookup failure"));
    }
    return switch (inspected) {
      case ContentChecks.Result.Reject(var dsn, var text) ->
          new Outcome.Refuse(Reply.of(dsn.startsWith("4") ? 451 : 550, dsn, text));
      case ContentChecks.Result.Discard() -> new Outcome.Discard();
      case ContentChecks.Result.Pass(var body, var hold) -> {
        var completed = complete(queueId, envelope, helo, origin, body, now);
        yield new Outcome.Queue(sender, List.copyOf(recipients), completed.content(), completed.messageId(), hold);
      }
    };
  }

  private record Completed(byte[] content, String messageId) {}

  /** Received on top; Message-Id and Date when missing. */
  private Completed complete(String queueId, Envelope envelope, String helo, Origin origin, byte[] content, ZonedDateTime now) {
    var header = parseHeader(content);
    var added = new StringBuilder();
    var date = RFC_5322.format(now);
    added.append("Received: from ").append(headerText(helo, MAX_HELO_IN_RECEIVED))
        .append(" (").append(origin.clientHostname()).append(" [").append(origin.clientAddress()).append("])\r\n")
        .append(origin.tls() == null ? "" : "\t(using " + origin.tls() + ")\r\n")
        .append(origin.authenticatedSender() == null ? ""
            : "\t(Authenticated sender: " + headerText(origin.authenticatedSender(), Integer.MAX_VALUE) + ")\r\n")
        .append("\tby ").append(myhostname).append(" (mta) with ").append(origin.protocol()).append(" id ").append(queueId);
    if (envelope.recipients().size() == 1) {
      var recipient = "\tfor <" + envelope.recipients().getFirst() + ">;";
      // A recipient near the 1000-octet command limit would push the date past 998 octets.
      added.append("\r\n").append(recipient).append(recipient.length() + 1 + date.length() > MAX_HEADER_LINE ? "\r\n\t" : " ");
    } else {
      added.append("; ");
    }
    added.append(date).append("\r\n");

    String messageId = header == null ? null : fieldBody(header, "Message-ID");
    if (messageId == null) {
      messageId = "<" + now.format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss", Locale.ROOT)) + "." + queueId + "@" + myhostname + ">";
      added.append("Message-Id: ").append(messageId).append("\r\n");
    }
    if (header == null || fieldBody(header, "Date") == null) added.append("Date: ").append(date).append("\r\n");
    log.info("{}: message-id={}", queueId, messageId);

    var prefix = added.toString().getBytes(StandardCharsets.UTF_8);
    var result = new byte[prefix.length + content.length];
    System.arraycopy(prefix, 0, result, 0, prefix.length);
    System.arraycopy(content, 0, result, prefix.length, content.length);
    return new Completed(result, messageId);
  }

  /**
   * Client text for a header we write: characters outside printable US-ASCII masked as
   * {@code ?} (as Postfix does without SMTPUTF8), at most {@code max} of them.
   */
  private static String headerText(String text, int max) {
    var sb = new StringBuilder(Math.min(text.length(), max));
    text.codePoints().limit(max).forEach(c -> sb.append(c >= ' ' && c < 0x7f ? (char) c : '?'));
    return sb.toString();
  }

  /** The header block, or null when there is none to speak of (a body without headers). */
  private Header parseHeader(byte[] content) {
    try {
      var builder = new DefaultMessageBuilder();
      builder.setMimeEntityConfig(mimeConfig);
      return builder.parseHeader(new ByteArrayInputStream(content));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String fieldBody(Header header, String name) {
    var field = header.getField(name);
    return field == null ? null : field.getBody().strip();
  }
}

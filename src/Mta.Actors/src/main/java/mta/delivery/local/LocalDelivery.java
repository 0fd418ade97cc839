package mta.delivery.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import mta.mail.MailAddress;

/**
 * Postfix's local(8) for one recipient: loop check, alias expansion, then delivery to each
 * resulting mailbox or file. Blocking I/O: run it on a dispatcher meant for that.
 *
 * <p>The recipient's result sums up its members': any deferral defers it all (the whole
 * alias is tried again later, so members already written may get the message twice, as in
 * Postfix); otherwise any bounce bounces it, with that member's reason; otherwise it is
 * {@link LocalResult.Forwarded} when members live elsewhere, else {@link LocalResult.Delivered}.
 */
public final class LocalDelivery {
  private final Aliases aliases;
  private final LocalUsers users;
  private final MailboxLocation location;
  private final MaildirDelivery maildir;
  private final MboxDelivery mbox;
  private final Set<String> localDomains;
  private final String recipientDelimiter;

  /**
   * @param aliases alias_maps
   * @param users local_recipient_maps: who exists, and where their home is
   * @param location mail_spool_directory and home_mailbox
   * @param maildir the Maildir writer
   * @param mbox the mbox writer
   * @param localDomains mydestination: alias members in these domains are delivered here
   * @param recipientDelimiter recipient_delimiter, empty for none
   */
  public LocalDelivery(Aliases aliases, LocalUsers users, MailboxLocation location, MaildirDelivery maildir, MboxDelivery mbox,
      Set<String> localDomains, String recipientDelimiter) {
    this.aliases = aliases;
    this.users = users;
    this.location = location;
    this.maildir = maildir;
    this.mbox = mbox;
    this.localDomains = Set.copyOf(localDomains);
    this.recipientDelimiter = recipientDelimiter;
  }

  /** Delivers {@code content} from {@code sender} (empty: the null sender) to one local recipient. */
  public LocalResult deliver(String sender, String recipient, byte[] content) {
    var address = MailAddress.parse(recipient);
    var seen = deliveredTo(content);
    if (seen.contains(recipient.toLowerCase(Locale.ROOT))) return loop(recipient);
    Aliases.Expansion expansion;
    try {
      expansion = aliases.expand(address.localPart(), localDomains, recipientDelimiter);
    } catch (IOException e) {
      return new LocalResult.Deferred("4.3.0", "alias expansion of " + recipient + " failed: " + e);
    }
    var results = new ArrayList<LocalResult>();
    for (var user : expansion.users()) {
      var deliveredTo = address.domain().isEmpty() ? user : user + "@" + address.domain();
      if (seen.contains(deliveredTo)) {
        results.add(loop(deliveredTo));
        continue;
      }
      results.add(users.home(user)
          .map(home -> write(location.of(user, home), new Delivery(sender, recipient, deliveredTo, content)))
          .orElseGet(() -> new LocalResult.Bounced("5.1.1", "unknown user: \"" + user + "\"")));
    }
    for (var file : expansion.files()) {
      var result = write(Mailbox.of(file), new Delivery(sender, recipient, recipient, content));
      results.add(result instanceof LocalResult.Delivered ? new LocalResult.Delivered("delivered to file: " + file) : result);
    }
    for (var command : expansion.commands()) {
      // allow_mail_to_commands is empty here: no alias may run a program.
      results.add(new LocalResult.Bounced("5.7.1", "mail to command is restricted: |" + command));
    }
    return summary(results, expansion.forwards());
  }

  /** Writes one message into one mailbox (the virtual transport's whole job). */
  public LocalResult write(Mailbox mailbox, Delivery delivery) {
    return switch (mailbox) {
      case Mailbox.Maildir m -> maildir.deliver(m.path(), delivery);
      case Mailbox.Mbox m -> mbox.deliver(m.path(), delivery);
    };
  }

  private static LocalResult summary(List<LocalResult> results, List<String> forwards) {
    for (var r : results) if (r instanceof LocalResult.Deferred) return r;
    for (var r : results) if (r instanceof LocalResult.Bounced) return r;
    var detail = results.stream().map(r -> r instanceof LocalResult.Delivered d ? d.detail() : "").distinct().collect(Collectors.joining("; "));
    return forwards.isEmpty() ? new LocalResult.Delivered(detail) : new LocalResult.Forwarded(forwards, detail);
  }

  private static LocalResult loop(String address) {
    return new LocalResult.Bounced("5.4.6", "mail forwarding loop for " + address);
  }

  /** The addresses in the message's Delivered-To headers, lower case: where it has been delivered already. */
  static Set<String> deliveredTo(byte[] content) {
    var header = new String(content, StandardCharsets.ISO_8859_1);
    int end = header.indexOf("\n\n");
    int crlfEnd = header.indexOf("\r\n\r\n");
    if (crlfEnd >= 0 && (end < 0 || crlfEnd < end)) end = crlfEnd;
    if (end >= 0) header = header.substring(0, end);
    return header.lines()
        .filter(l -> l.regionMatches(true, 0, "Delivered-To:", 0, 13))
        .map(l -> l.substring(13).strip().toLowerCase(Locale.ROOT))
        .collect(Collectors.toSet());
  }
}

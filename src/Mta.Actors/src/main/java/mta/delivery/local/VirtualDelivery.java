package mta.delivery.local;

import java.util.Locale;
import mta.maps.Maps;

/**
 * Postfix's virtual delivery agent: mail for virtual_mailbox_domains goes to the mailbox
 * that virtual_mailbox_maps names for the full address (or for {@code @domain}, a
 * catch-all), relative to virtual_mailbox_base; a name ending in {@code /} is a Maildir.
 * No aliases, no home directories: those are for local users.
 */
public final class VirtualDelivery {
  private final Maps mailboxes;
  private final String base;
  private final LocalDelivery writer;

  public VirtualDelivery(Maps mailboxes, String base, LocalDelivery writer) {
    this.mailboxes = mailboxes;
    this.base = base.endsWith("/") ? base : base + "/";
    this.writer = writer;
  }

  public LocalResult deliver(String sender, String recipient, byte[] content) {
    var address = recipient.toLowerCase(Locale.ROOT);
    var at = address.lastIndexOf('@');
    var mailbox = mailboxes.find(address).or(() -> at < 0 ? java.util.Optional.empty() : mailboxes.find(address.substring(at)));
    if (mailbox.isEmpty()) return new LocalResult.Bounced("5.1.1", "user unknown in virtual mailbox table");
    return writer.write(Mailbox.of(base + mailbox.get().strip()), new Delivery(sender, recipient, recipient, content));
  }
}

package mta.delivery.local;

import java.nio.file.Path;

/**
 * Postfix's choice of a user's mailbox: with home_mailbox set, that path under the user's
 * home directory; otherwise the file or directory named after the user in
 * mail_spool_directory. Either way a path that ends in {@code /} means Maildir, any other
 * an mbox file ({@code mail_spool_directory = /var/mail} gives {@code /var/mail/bob},
 * {@code /var/mail/} gives the Maildir {@code /var/mail/bob/}, {@code home_mailbox =
 * Maildir/} gives {@code ~bob/Maildir/}).
 *
 * @param mailSpoolDirectory mail_spool_directory
 * @param homeMailbox home_mailbox, relative to the home directory; empty: use the spool
 */
public record MailboxLocation(String mailSpoolDirectory, String homeMailbox) {

  /** The mailbox of {@code user}, whose home directory is {@code home}. */
  public Mailbox of(String user, Path home) {
    if (!homeMailbox.isEmpty()) return Mailbox.of(home.resolve(homeMailbox) + (homeMailbox.endsWith("/") ? "/" : ""));
    var spool = mailSpoolDirectory.endsWith("/") ? mailSpoolDirectory.substring(0, mailSpoolDirectory.length() - 1) : mailSpoolDirectory;
    return Mailbox.of(spool + "/" + user + (mailSpoolDirectory.endsWith("/") ? "/" : ""));
  }
}

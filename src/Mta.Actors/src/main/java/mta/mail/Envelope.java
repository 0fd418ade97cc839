package mta.mail;

import java.util.Collections;
import java.util.List;

/**
 * The SMTP envelope of one transaction: reverse-path and forward-paths, in the order given,
 * with the client's DSN requests ({@link Dsn}): one {@link Dsn.Rcpt} per recipient, same order.
 */
public record Envelope(MailAddress sender, List<MailAddress> recipients, Dsn.Mail dsn, List<Dsn.Rcpt> recipientDsn) {
  public Envelope {
    recipients = List.copyOf(recipients);
    recipientDsn = List.copyOf(recipientDsn);
    if (recipientDsn.size() != recipients.size()) {
      throw new IllegalArgumentException(recipients.size() + " recipients but " + recipientDsn.size() + " DSN requests");
    }
  }

  /** An envelope without DSN requests. */
  public Envelope(MailAddress sender, List<MailAddress> recipients) {
    this(sender, recipients, Dsn.Mail.NONE, Collections.nCopies(recipients.size(), Dsn.Rcpt.NONE));
  }
}

package mta.smtp;

import mta.mail.MailAddress;
import mta.mail.Reply;

/**
 * The session as restrictions see it (the parts of Postfix's {@code SMTPD_STATE} that
 * {@code smtpd_check.c} reads), taken by the protocol at each stage.
 *
 * @param where the stage, as Postfix logs it: {@code CONNECT}, {@code EHLO}, {@code MAIL},
 *     {@code RCPT}, {@code DATA}, {@code END-OF-MESSAGE}
 * @param heloName null before HELO/EHLO
 * @param protocol {@code SMTP} or {@code ESMTP}
 * @param sender null outside a transaction; {@link MailAddress#NULL_SENDER} for {@code <>}
 * @param recipient the recipient being checked (RCPT), or the only one (DATA); else null
 * @param recipientCount recipients accepted so far in this transaction
 * @param sasl how the client authenticated (SMTP AUTH); null if it has not
 * @param tls the session's TLS (after STARTTLS, or from the start on a TLS port); null without
 * @param improperPipelining the client sent commands ahead of replies without PIPELINING
 * @param messageSize the SIZE the client announced, 0 if none
 * @param instance one id per transaction, for policy servers
 * @param discarded an earlier DISCARD in this transaction: the remaining checks are skipped
 * @param deferIfPermit a {@code defer_if_permit} left over from a stage evaluated earlier
 *     (with {@code smtpd_delay_reject = no}); null if none
 */
public record SmtpdState(
    String where,
    ClientInfo client,
    String heloName,
    String protocol,
    MailAddress sender,
    MailAddress recipient,
    int recipientCount,
    SaslLogin sasl,
    TlsSession tls,
    boolean improperPipelining,
    long messageSize,
    String instance,
    boolean discarded,
    Reply deferIfPermit) {

  /** A successful SMTP AUTH: the mechanism (PLAIN, LOGIN) and the name the client logged in as. */
  public record SaslLogin(String method, String username) {}

  /** An established TLS session: protocol ({@code TLSv1.3}), cipher suite and its key size in bits. */
  public record TlsSession(String protocol, String cipher, int keysize) {
    /** As Postfix logs it and writes it into Received: {@code TLSv1.3 with cipher X (256/256 bits)}. */
    public String description() {
      return protocol + " with cipher " + cipher + " (" + keysize + "/" + keysize + " bits)";
    }
  }

  /**
   * A log line as Postfix writes it for {@code action} (reject, hold, discard, warn...):
   * {@code NOQUEUE: reject: RCPT from host[ip]: TEXT; from=<a@b> to=<x@y> proto=ESMTP helo=<h>}.
   */
  public String logLine(String action, String text) {
    var line = new StringBuilder("NOQUEUE: ").append(action).append(": ")
        .append(where).append(" from ").append(client).append(": ").append(text).append(';');
    if (sender != null) line.append(" from=<").append(sender).append('>');
    if (recipient != null) line.append(" to=<").append(recipient).append('>');
    line.append(" proto=").append(protocol);
    if (heloName != null) line.append(" helo=<").append(heloName).append('>');
    return line.toString();
  }
}

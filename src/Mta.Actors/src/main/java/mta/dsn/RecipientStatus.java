package mta.dsn;

import java.util.EnumSet;
import java.util.Set;
import mta.mail.Dsn;

/**
 * What became of one recipient, as a DSN tells it.
 *
 * @param recipient the address delivered to: {@code Final-Recipient: rfc822; recipient}
 * @param originalRecipient the RCPT TO ORCPT value, decoded ({@code rfc822;a@example.com}),
 *     empty or null when none was given: {@code Original-Recipient}
 * @param notifyOn the recipient's NOTIFY conditions, empty for NEVER; null when none were
 *     given, which means {@link #DEFAULT_NOTIFY} (as {@link Dsn.Rcpt#notifyOn()} has it)
 * @param action the Action field
 * @param status the enhanced status code, {@code 5.1.1}
 * @param reason the text Postfix logs in parentheses after {@code status=}, shown to people:
 *     {@code host mx.example.com[192.0.2.1] said: 550 5.1.1 No such user (in reply to RCPT TO command)}
 * @param remoteMta the host name of the server that answered, or empty: {@code Remote-MTA: dns; host}
 * @param smtpReply that server's reply, {@code 550 5.1.1 No such user}, or empty:
 *     {@code Diagnostic-Code: smtp; reply}; without one the code is {@code X-MTA; reason}
 */
public record RecipientStatus(
    String recipient,
    String originalRecipient,
    Set<Dsn.Notify> notifyOn,
    Action action,
    String status,
    String reason,
    String remoteMta,
    String smtpReply) {

  /** What a recipient without a NOTIFY parameter gets (RFC 3461 section 4.1): failures and delays. */
  public static final Set<Dsn.Notify> DEFAULT_NOTIFY = Set.copyOf(EnumSet.of(Dsn.Notify.FAILURE, Dsn.Notify.DELAY));

  public RecipientStatus {
    originalRecipient = originalRecipient == null ? "" : originalRecipient;
    notifyOn = notifyOn == null ? DEFAULT_NOTIFY : Set.copyOf(notifyOn);
  }

  /** A status decided here (no remote server involved), without ORCPT or NOTIFY. */
  public static RecipientStatus local(String recipient, Action action, String status, String reason) {
    return new RecipientStatus(recipient, "", null, action, status, reason, "", "");
  }
}

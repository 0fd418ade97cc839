package mta.dsn;

import java.util.List;

/**
 * One notification to send: a message from {@code envelopeSender} to {@code to} about
 * {@code recipients}. Built by {@link NotifyPolicy}, written by {@link DsnBuilder}.
 *
 * @param kind failure, delay or success report
 * @param envelopeSender the notice's own MAIL FROM: empty (the null sender) for a notice to
 *     the original sender; the double-bounce address for a postmaster notice
 * @param to the one recipient of the notice
 * @param postmasterCopy a notice to the postmaster: the postmaster subject, no boilerplate,
 *     the original's headers only
 * @param recipients the recipients it reports on
 */
public record Notice(Kind kind, String envelopeSender, String to, boolean postmasterCopy, List<RecipientStatus> recipients) {

  public Notice {
    recipients = List.copyOf(recipients);
  }

  /** The three reports, with Postfix's subjects. */
  public enum Kind {
    FAILURE("Undelivered Mail Returned to Sender", "Postmaster Copy: Undelivered Mail"),
    DELAY("Delayed Mail (still being retried)", "Postmaster Warning: Delayed Mail"),
    SUCCESS("Successful Mail Delivery Report", "Successful Mail Delivery Report");

    private final String subject;
    private final String postmasterSubject;

    Kind(String subject, String postmasterSubject) {
      this.subject = subject;
      this.postmasterSubject = postmasterSubject;
    }

    public String subject(boolean postmasterCopy) {
      return postmasterCopy ? postmasterSubject : subject;
    }
  }
}

package mta.smtp;

import mta.mail.Reply;

/**
 * The restriction stages smtpd consults before it says yes, one method per stage, each
 * called when the protocol reaches it (Postfix's {@code smtpd_check_client},
 * {@code _helo}, {@code _mail}, {@code _rcpt}, {@code _data} and {@code _eod}). Whether a
 * stage is evaluated then or later ({@code smtpd_delay_reject}) is the implementation's call;
 * the protocol only acts on the {@link Verdict}. {@link Restrictions} is the real one.
 */
@FunctionalInterface
public interface SmtpChecks {

  /**
   * What a stage decided.
   *
   * @param reply null to go on, else the ready-made refusal (with its enhanced code), which the
   *     protocol sends as it is and logs as a {@code NOQUEUE: reject:} line
   * @param deferIfPermit a {@code defer_if_permit} to carry into the RCPT stage; null if none
   * @param hold a HOLD action fired: queue the message on hold
   * @param discard a DISCARD action fired: answer as if queued, queue nothing
   */
  record Verdict(Reply reply, Reply deferIfPermit, boolean hold, boolean discard) {
    public static final Verdict DUNNO = new Verdict(null, null, false, false);

    public static Verdict refuse(Reply reply) {
      return new Verdict(reply, null, false, false);
    }
  }

  /** The client connected (before the greeting). */
  default Verdict connect(SmtpdState state) {
    return Verdict.DUNNO;
  }

  /** HELO or EHLO; {@link SmtpdState#heloName} is the name given. */
  default Verdict helo(SmtpdState state) {
    return Verdict.DUNNO;
  }

  /** MAIL FROM. */
  default Verdict mail(SmtpdState state) {
    return Verdict.DUNNO;
  }

  /** RCPT TO, once per recipient; the sender is {@code <>} for bounces. */
  Verdict rcpt(SmtpdState state);

  /** DATA, before the 354. */
  default Verdict data(SmtpdState state) {
    return Verdict.DUNNO;
  }

  /** The end of the message, before it is queued. */
  default Verdict endOfData(SmtpdState state) {
    return Verdict.DUNNO;
  }
}

package mta.queue;

import java.util.Locale;
import mta.CborSerializable;

/**
 * What became of one recipient in one delivery attempt: the outcome class, the DSN status
 * ({@code 2.0.0}), the text Postfix logs in parentheses after {@code status=}, and the relay
 * ({@code host[ip]:port}, or {@code none} when no server was reached).
 */
public record RecipientResult(String recipient, Outcome outcome, String dsn, String reply, String relay)
    implements CborSerializable {

  public enum Outcome { SENT, DEFERRED, BOUNCED }

  public static RecipientResult deferred(String recipient, String dsn, String reason) {
    return new RecipientResult(recipient, Outcome.DEFERRED, dsn, reason, "none");
  }

  /** Postfix's delivery log line, after the queue id: {@code to=<a@b>, relay=..., delay=0.4, dsn=2.0.0, status=sent (250 Ok)}. */
  public String logLine(long arrivalMillis, long nowMillis) {
    double delay = (nowMillis - arrivalMillis) / 1000.0;
    var shownDelay = delay < 100 ? String.format(Locale.ROOT, "%.2g", delay) : Long.toString((long) delay);
    return "to=<" + recipient + ">, relay=" + relay + ", delay=" + shownDelay + ", dsn=" + dsn
        + ", status=" + outcome.name().toLowerCase(Locale.ROOT) + " (" + reply + ")";
  }
}

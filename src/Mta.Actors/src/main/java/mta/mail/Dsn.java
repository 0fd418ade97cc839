package mta.mail;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a client asked of delivery status notifications (RFC 3461), kept with the envelope
 * so that the queue and the bounce service can honour it: per message {@code RET} and
 * {@code ENVID} (from MAIL FROM), per recipient {@code NOTIFY} and {@code ORCPT} (from RCPT TO).
 * Values are stored decoded from xtext; null means "not given" (the default behaviour).
 */
public final class Dsn {
  private Dsn() {}

  /** {@code RET=}: return the full message, or only its headers, in a failure report. */
  public enum Ret { FULL, HDRS }

  /** {@code NOTIFY=} keywords other than {@code NEVER} (which is the empty set). */
  public enum Notify { SUCCESS, FAILURE, DELAY }

  /** MAIL FROM's parameters. */
  public record Mail(Ret ret, String envid) {
    public static final Mail NONE = new Mail(null, null);
  }

  /**
   * RCPT TO's parameters.
   *
   * @param notifyOn {@code NOTIFY=}: null when not given; empty for {@code NEVER}
   * @param orcpt the original recipient as given, {@code addr-type;address}, e.g. {@code rfc822;a@b.example}
   */
  public record Rcpt(Set<Notify> notifyOn, String orcpt) {
    public static final Rcpt NONE = new Rcpt(null, null);

    public Rcpt {
      notifyOn = notifyOn == null ? null : Collections.unmodifiableSet(notifyOn.isEmpty() ? EnumSet.noneOf(Notify.class) : EnumSet.copyOf(notifyOn));
    }
  }
}

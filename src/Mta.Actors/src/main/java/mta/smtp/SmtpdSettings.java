package mta.smtp;

/**
 * What one smtpd session needs to know, under Postfix's parameter names.
 *
 * @param myhostname the name in the greeting, the EHLO reply and 421/550 replies
 * @param messageSizeLimit {@code message_size_limit}: octets of content accepted, announced as
 *     {@code SIZE}. Bodies are held in memory (and in the journal), so there is no "0 = none".
 * @param recipientLimit {@code smtpd_recipient_limit}: recipients per transaction
 * @param recipientOvershootLimit {@code smtpd_recipient_overshoot_limit}: recipients above the
 *     limit answered {@code 452} before each further one counts as an error. A bulk sender is
 *     expected to send the rest in a second transaction, not to be disconnected.
 * @param hardErrorLimit {@code smtpd_hard_error_limit}: errors before smtpd hangs up
 * @param softwareName {@code mail_name}, in the greeting
 * @param tlsAvailable whether STARTTLS is offered; until then it is {@code 502}
 * @param heloRequired {@code smtpd_helo_required}: MAIL before HELO/EHLO is {@code 503}
 * @param strictRfc821Envelopes {@code strict_rfc821_envelopes}: MAIL and RCPT need
 *     {@code <address>}, without source route
 */
public record SmtpdSettings(
    String myhostname,
    long messageSizeLimit,
    int recipientLimit,
    int recipientOvershootLimit,
    int hardErrorLimit,
    String softwareName,
    boolean tlsAvailable,
    boolean heloRequired,
    boolean strictRfc821Envelopes) {

  public static final long DEFAULT_MESSAGE_SIZE_LIMIT = 10_240_000;
  public static final int DEFAULT_RECIPIENT_LIMIT = 1000;
  public static final int DEFAULT_RECIPIENT_OVERSHOOT_LIMIT = 1000;
  public static final int DEFAULT_HARD_ERROR_LIMIT = 20;

  public SmtpdSettings {
    if (myhostname == null || myhostname.isBlank()) throw new IllegalArgumentException("myhostname is required");
    if (messageSizeLimit < 1 || messageSizeLimit > DataReader.MAX_SIZE_LIMIT) {
      throw new IllegalArgumentException("message_size_limit must be 1.." + DataReader.MAX_SIZE_LIMIT);
    }
    if (recipientLimit < 1) throw new IllegalArgumentException("smtpd_recipient_limit must be positive");
    if (recipientOvershootLimit < 0) throw new IllegalArgumentException("smtpd_recipient_overshoot_limit must not be negative");
    if (hardErrorLimit < 1) throw new IllegalArgumentException("smtpd_hard_error_limit must be positive");
  }

  /** Postfix's defaults, without TLS. */
  public static SmtpdSettings defaults(String myhostname) {
    return new SmtpdSettings(myhostname, DEFAULT_MESSAGE_SIZE_LIMIT, DEFAULT_RECIPIENT_LIMIT,
        DEFAULT_RECIPIENT_OVERSHOOT_LIMIT, DEFAULT_HARD_ERROR_LIMIT, "mta", false, false, false);
  }
}

package mta.mail;

import java.util.Locale;

/**
 * An envelope address {@code local@domain}. The local part keeps its case (RFC 5321 §2.4);
 * the domain is compared case-insensitively and stored in lower case without a trailing dot.
 * A null reverse-path ({@code <>}) is {@link #NULL_SENDER}.
 */
public record MailAddress(String localPart, String domain) {

  public static final MailAddress NULL_SENDER = new MailAddress("", "");

  public MailAddress {
    domain = normalizeDomain(domain);
  }

  public static String normalizeDomain(String domain) {
    var d = domain.toLowerCase(Locale.ROOT);
    return d.endsWith(".") ? d.substring(0, d.length() - 1) : d;
  }

  /**
   * Parses {@code user@domain} (no angle brackets). The split is at the last {@code @}, so a
   * quoted local part may itself contain one. An address without a domain is returned with an
   * empty domain; the caller decides whether that is acceptable.
   */
  public static MailAddress parse(String address) {
    int at = address.lastIndexOf('@');
    if (at < 0) return new MailAddress(address, "");
    return new MailAddress(address.substring(0, at), address.substring(at + 1));
  }

  public boolean isNullSender() { return localPart.isEmpty() && domain.isEmpty(); }

  @Override
  public String toString() {
    if (isNullSender()) return "";
    return domain.isEmpty() ? localPart : localPart + "@" + domain;
  }
}

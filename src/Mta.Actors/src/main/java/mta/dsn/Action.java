package mta.dsn;

import java.util.Locale;

/** The Action field of a per-recipient DSN block (RFC 3464 section 2.3.3). */
public enum Action {
  FAILED, DELAYED, DELIVERED, RELAYED, EXPANDED;

  /** As written in the report: {@code failed}. */
  public String field() {
    return name().toLowerCase(Locale.ROOT);
  }
}

package mta.smtp;

import mta.maps.LookupFailure;
import mta.maps.Maps;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Checks SMTP AUTH credentials (Postfix leaves this to Cyrus or Dovecot; we read a table):
 * {@code smtpd_sasl_password_maps} maps a user name to a bcrypt hash, written {@code {bcrypt}$2a$...}
 * or bare {@code $2a$...}. Anything else never matches. An unknown user costs as much as a
 * known one, so that timing does not tell which names exist.
 */
@FunctionalInterface
public interface SaslPasswords {

  /** @throws LookupFailure when the table cannot answer */
  boolean verify(String user, String password);

  static SaslPasswords bcrypt(Maps table) {
    var decoy = BCrypt.hashpw("decoy", BCrypt.gensalt());
    return (user, password) -> {
      var hash = table.find(user).map(v -> v.strip().replaceFirst("^\\{bcrypt}", "")).orElse(null);
      if (hash == null || !hash.startsWith("$2")) {
        BCrypt.checkpw(password, decoy);
        return false;
      }
      try {
        return BCrypt.checkpw(password, hash);
      } catch (IllegalArgumentException malformed) {
        return false;
      }
    };
  }
}

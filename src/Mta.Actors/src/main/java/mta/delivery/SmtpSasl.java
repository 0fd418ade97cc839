package mta.delivery;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import mta.config.ConfigError;
import mta.delivery.SmtpClientProtocol.SaslLogin;
import mta.mail.Reply;
import mta.maps.Maps;

/**
 * The smtp client's SASL settings, after Postfix's {@code smtp_sasl_glue.c}:
 * {@code smtp_sasl_auth_enable}, {@code smtp_sasl_password_maps} ({@code user:password} per
 * next hop), {@code smtp_sasl_security_options} for plaintext sessions (default
 * {@code noplaintext, noanonymous}), {@code smtp_sasl_tls_security_options} under TLS
 * (default {@code noanonymous}) and {@code smtp_sasl_auth_soft_bounce}.
 *
 * <p>Mechanisms are PLAIN and LOGIN (no Cyrus library: CRAM-MD5, DIGEST-MD5, SCRAM and GSSAPI
 * are not offered). Both send the password as it is, so {@code noplaintext},
 * {@code noactive}, {@code nodictionary}, {@code mutual_auth} and {@code forward_secrecy} each
 * leave none; {@code noanonymous} leaves both. Other words are configuration errors.
 *
 * <p>The password table is searched for the next hop as the route names it when it is
 * {@code [host]} or {@code [host]:port}, then the server's host name, then the next-hop
 * domain: so a smarthost entry {@code [mail.isp.example]:587 user:secret} matches the
 * relayhost of the same spelling.
 */
record SmtpSasl(boolean enabled, Maps passwords, Set<String> plaintextMechanisms, Set<String> tlsMechanisms, boolean softBounce) {
  private static final Set<String> MECHANISMS = Set.of("PLAIN", "LOGIN");
  private static final Set<String> EXCLUDE_PASSWORDS = Set.of("noplaintext", "noactive", "nodictionary", "mutual_auth", "forward_secrecy");

  static SmtpSasl from(Config c) {
    return new SmtpSasl(c.getBoolean("mta.smtp_sasl_auth_enable"),
        Maps.open("smtp_sasl_password_maps", c.getStringList("mta.smtp_sasl_password_maps")),
        mechanisms(c, "mta.smtp_sasl_security_options"), mechanisms(c, "mta.smtp_sasl_tls_security_options"),
        c.getBoolean("mta.smtp_sasl_auth_soft_bounce"));
  }

  private static Set<String> mechanisms(Config c, String key) {
    try {
      return mechanisms(c.getStringList(key));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(c.getValue(key).origin().description() + ": " + key + ": " + e.getMessage());
    }
  }

  /** The mechanisms a list of Cyrus security options allows. */
  static Set<String> mechanisms(List<String> options) {
    boolean passwordsAllowed = true;
    for (var option : options) {
      var word = option.trim().toLowerCase(Locale.ROOT);
      if (EXCLUDE_PASSWORDS.contains(word)) passwordsAllowed = false;
      else if (!word.equals("noanonymous")) {
        throw new IllegalArgumentException("unknown security option '" + option
            + "': expected noplaintext, noactive, nodictionary, noanonymous, mutual_auth or forward_secrecy");
      }
    }
    return passwordsAllowed ? MECHANISMS : Set.of();
  }

  /**
   * The credentials for a next hop, or null: AUTH off, or no entry.
   *
   * @throws IllegalArgumentException for an entry that is not {@code user:password}
   * @throws mta.maps.LookupFailure when the table cannot answer
   */
  SaslLogin login(String nexthop, String hostname) {
    if (!enabled) return null;
    for (var key : keys(nexthop, hostname)) {
      var value = passwords.find(key);
      if (value.isEmpty()) continue;
      int colon = value.get().indexOf(':');
      if (colon <= 0) throw new IllegalArgumentException("smtp_sasl_password_maps entry for " + key + ": expected user:password");
      return new SaslLogin(value.get().substring(0, colon), value.get().substring(colon + 1), plaintextMechanisms, tlsMechanisms);
    }
    return null;
  }

  static List<String> keys(String nexthop, String hostname) {
    var keys = new ArrayList<String>();
    if (nexthop.startsWith("[")) keys.add(nexthop);
    keys.add(hostname.toLowerCase(Locale.ROOT));
    if (!nexthop.startsWith("[")) {
      int colon = nexthop.lastIndexOf(':');
      var domain = (colon < 0 ? nexthop : nexthop.substring(0, colon)).toLowerCase(Locale.ROOT);
      if (!keys.contains(domain)) keys.add(domain);
    }
    return keys;
  }

  /**
   * The DSN code for mail after the server refused AUTH: with soft bounce (the default) a 5xx
   * becomes a deferral, its class made 4 ({@code 535 5.7.8} defers with 4.7.8), as in Postfix.
   */
  String dsn(Reply refused) {
    var dsn = refused.enhanced().isEmpty() ? (refused.code() / 100) + ".7.0" : refused.enhanced();
    return softBounce && dsn.startsWith("5") ? "4" + dsn.substring(1) : dsn;
  }
}

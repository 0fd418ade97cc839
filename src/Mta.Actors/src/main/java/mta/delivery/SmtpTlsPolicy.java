package mta.delivery;

import com.typesafe.config.Config;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.File;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.naming.ldap.LdapName;
import javax.net.ssl.SSLException;
import mta.config.ConfigError;
import mta.delivery.SmtpClientProtocol.TlsLevel;
import mta.maps.Maps;

/**
 * The smtp client's TLS policy, after Postfix's {@code smtp_tls_policy.c}: the default
 * {@code smtp_tls_security_level}, overridden per next hop by {@code smtp_tls_policy_maps}.
 *
 * <h2>Lookup</h2>
 * The key is the next hop as the route names it: {@code [host]:port} or {@code [host]} is
 * looked up once, as it is; a domain is looked up as itself, then as each parent domain with
 * a leading dot ({@code .example.com}, {@code .com}), or without the dot when
 * {@code parent_domain_matches_subdomains} lists {@code smtp_tls_policy_maps}.
 *
 * <h2>Policy</h2>
 * {@code level [match=name:name...] [protocols=...] [ciphers=...]}:
 * <ul>
 *   <li>levels {@code none}, {@code may}, {@code encrypt}, {@code verify}, {@code secure}.
 *       {@code verify} and {@code secure} check the chain against {@code smtp_tls_CAfile} (the
 *       JDK's trust anchors when empty) and the certificate's names (subjectAltName DNS names,
 *       else the CN) against {@code match}: by default {@code smtp_tls_verify_cert_match}
 *       ({@code hostname}, the MX host's name) and {@code smtp_tls_secure_cert_match}
 *       ({@code nexthop:dot-nexthop}). A match name starting with a dot matches subdomains.
 *   <li>{@code protocols=}: a subset of TLS 1.2 and 1.3 ({@code TLSv1.3}, {@code !TLSv1.2},
 *       {@code >=TLSv1.3}); older protocols are never offered.
 *   <li>{@code ciphers=high} or {@code medium}: the JDK's default suites, which have no weaker
 *       ones for TLS 1.2+.
 * </ul>
 * Not supported, and refused rather than ignored: the levels {@code dane}, {@code dane-only},
 * {@code fingerprint}, cipher grades {@code low}, {@code export}, {@code null}, and the
 * attributes {@code exclude}, {@code tafile}, {@code servername}, {@code connection_reuse}.
 * A bad default is a configuration error at start; a bad table entry defers the mail to that
 * destination (4.7.5, as Postfix's "client TLS configuration problem") with a warning that
 * says why.
 */
final class SmtpTlsPolicy {
  private static final List<String> SUPPORTED_PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");
  private static final List<String> KNOWN_PROTOCOLS = List.of("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");

  /** One destination's policy; {@code match} as written, resolved against the names by {@link #names}. */
  record Policy(TlsLevel level, List<String> match, List<String> protocols) {}

  /** What one connection needs: the policy, its SSL context (null for none) and the names the certificate must carry. */
  record Session(Policy policy, SslContext context, List<String> names) {}

  private final Policy defaults;
  private final Maps policyMaps;
  private final boolean parentMatchesSubdomains;
  private final String caFile;
  private final List<String> verifyMatch;
  private final List<String> secureMatch;
  private final Map<List<Object>, SslContext> contexts = new HashMap<>();

  private SmtpTlsPolicy(Policy defaults, Maps policyMaps, boolean parentMatchesSubdomains, String caFile,
      List<String> verifyMatch, List<String> secureMatch) {
    this.defaults = defaults;
    this.policyMaps = policyMaps;
    this.parentMatchesSubdomains = parentMatchesSubdomains;
    this.caFile = caFile;
    this.verifyMatch = verifyMatch;
    this.secureMatch = secureMatch;
  }

  static SmtpTlsPolicy from(Config c) {
    var key = "mta.smtp_tls_security_level";
    Policy defaults;
    try {
      defaults = parse(c.getString(key));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(c.getValue(key).origin().description() + ": " + key + ": " + e.getMessage());
    }
    var caFile = c.getString("mta.smtp_tls_CAfile");
    if (!caFile.isEmpty() && !new File(caFile).canRead()) {
      throw new ConfigError(c.getValue("mta.smtp_tls_CAfile").origin().description() + ": mta.smtp_tls_CAfile: cannot read " + caFile);
    }
    var policy = new SmtpTlsPolicy(defaults, Maps.open("smtp_tls_policy_maps", c.getStringList("mta.smtp_tls_policy_maps")),
        c.getStringList("mta.parent_domain_matches_subdomains").contains("smtp_tls_policy_maps"), caFile,
        c.getStringList("mta.smtp_tls_verify_cert_match"), c.getStringList("mta.smtp_tls_secure_cert_match"));
    try {
      policy.context(defaults);
    } catch (IllegalArgumentException e) {
      throw new ConfigError(key + ": " + e.getMessage());
    }
    return policy;
  }

  /**
   * The session settings toward one host of a next hop.
   *
   * @param nexthop as the route names it: {@code [host]:port}, {@code domain} or {@code domain:port}
   * @param hostname the host's name (the MX name, or the bracketed host)
   * @throws IllegalArgumentException for a table entry that is not a valid policy
   * @throws mta.maps.LookupFailure when the table cannot answer
   */
  Session session(String nexthop, String hostname) {
    var policy = lookup(nexthop);
    var domain = nexthop.startsWith("[") ? hostname : stripPort(nexthop);
    return new Session(policy, context(policy), names(policy, hostname, domain));
  }

  Policy lookup(String nexthop) {
    for (var key : keys(nexthop, parentMatchesSubdomains)) {
      var value = policyMaps.find(key);
      if (value.isPresent()) {
        try {
          return parse(value.get());
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("smtp_tls_policy_maps entry for " + key + ": " + e.getMessage());
        }
      }
    }
    return defaults;
  }

  /** The lookup keys for a next hop, in order. */
  static List<String> keys(String nexthop, boolean parentMatchesSubdomains) {
    if (nexthop.startsWith("[")) return List.of(nexthop);
    var domain = stripPort(nexthop).toLowerCase(Locale.ROOT);
    var keys = new ArrayList<String>();
    keys.add(domain);
    for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
      keys.add(parentMatchesSubdomains ? domain.substring(dot + 1) : domain.substring(dot));
    }
    return keys;
  }

  private static String stripPort(String nexthop) {
    int colon = nexthop.lastIndexOf(':');
    return colon < 0 ? nexthop : nexthop.substring(0, colon);
  }

  /** A policy as written: {@code level attribute=value...}. */
  static Policy parse(String text) {
    var words = text.trim().split("\\s+");
    var levelName = words[0].toLowerCase(Locale.ROOT);
    TlsLevel level = switch (levelName) {
      case "none", "may", "encrypt", "verify", "secure" -> TlsLevel.valueOf(levelName.toUpperCase(Locale.ROOT));
      case "dane", "dane-only", "fingerprint" -> throw new IllegalArgumentException("level " + levelName + " is not supported");
      default -> throw new IllegalArgumentException("unknown level '" + words[0] + "': expected none, may, encrypt, verify or secure");
    };
    List<String> match = List.of();
    List<String> protocols = SUPPORTED_PROTOCOLS;
    for (int i = 1; i < words.length; i++) {
      int eq = words[i].indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException("expected attribute=value, not '" + words[i] + "'");
      var name = words[i].substring(0, eq).toLowerCase(Locale.ROOT);
      var value = words[i].substring(eq + 1);
      switch (name) {
        case "match" -> {
          if (!level.verified()) throw new IllegalArgumentException("match= needs level verify or secure, not " + levelName);
          match = List.of(value.split(":"));
        }
        case "protocols" -> protocols = protocols(value);
        case "ciphers" -> {
          var grade = value.toLowerCase(Locale.ROOT);
          if (!grade.equals("high") && !grade.equals("medium")) {
            throw new IllegalArgumentException("ciphers=" + value + " is not supported: only high or medium");
          }
        }
        default -> throw new IllegalArgumentException("attribute " + name + "= is not supported");
      }
    }
    return new Policy(level, match, protocols);
  }

  /** Postfix's protocol list: names, {@code !name} exclusions, or {@code >=name}/{@code <=name} bounds. */
  static List<String> protocols(String text) {
    var enabled = new LinkedHashSet<String>();
    var excluded = new LinkedHashSet<String>();
    int min = 0, max = KNOWN_PROTOCOLS.size() - 1;
    for (var item : text.split("[:,\\s]+")) {
      if (item.isEmpty()) continue;
      if (item.startsWith(">=")) min = protocolIndex(item.substring(2));
      else if (item.startsWith("<=")) max = protocolIndex(item.substring(2));
      else if (item.startsWith("!")) excluded.add(KNOWN_PROTOCOLS.get(protocolIndex(item.substring(1))));
      else enabled.add(KNOWN_PROTOCOLS.get(protocolIndex(item)));
    }
    var result = new ArrayList<String>();
    for (var p : SUPPORTED_PROTOCOLS) {
      int i = KNOWN_PROTOCOLS.indexOf(p);
      if (i >= min && i <= max && !excluded.contains(p) && (enabled.isEmpty() || enabled.contains(p))) result.add(p);
    }
    if (result.isEmpty()) throw new IllegalArgumentException("protocols=" + text + " leaves no protocol: only TLSv1.2 and TLSv1.3 are supported");
    return List.copyOf(result);
  }

  private static int protocolIndex(String name) {
    for (int i = 0; i < KNOWN_PROTOCOLS.size(); i++) if (KNOWN_PROTOCOLS.get(i).equalsIgnoreCase(name)) return i;
    throw new IllegalArgumentException("unknown protocol '" + name + "'");
  }

  /** The names the certificate must carry: {@code hostname}, {@code nexthop}, {@code dot-nexthop} resolved. */
  List<String> names(Policy policy, String hostname, String nexthopDomain) {
    if (!policy.level().verified()) return List.of();
    var match = !policy.match().isEmpty() ? policy.match() : policy.level() == TlsLevel.VERIFY ? verifyMatch : secureMatch;
    return match.stream().map(m -> switch (m.toLowerCase(Locale.ROOT)) {
      case "hostname" -> hostname;
      case "nexthop" -> nexthopDomain;
      case "dot-nexthop" -> "." + nexthopDomain;
      default -> m;
    }).map(n -> n.toLowerCase(Locale.ROOT)).toList();
  }

  /** One context per trust and protocol choice; the agent's thread only. */
  private SslContext context(Policy policy) {
    if (policy.level() == TlsLevel.NONE) return null;
    var verified = policy.level().verified();
    return contexts.computeIfAbsent(List.of(verified, policy.protocols()), k -> {
      try {
        // No HTTPS name check in the handshake (Netty 4.2 turns it on for every client): which
        // names a certificate must carry is smtp_tls_verify_cert_match's (matches() below),
        // and the unverified levels check none.
        var builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
            .protocols(policy.protocols().toArray(String[]::new))
            .endpointIdentificationAlgorithm(null);
        // Unverified levels encrypt against passive eavesdroppers only (RFC 7435), as Postfix's may and encrypt.
        if (!verified) builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        else if (!caFile.isEmpty()) builder.trustManager(new File(caFile));
        return builder.build();
      } catch (SSLException | IllegalArgumentException e) {
        throw new IllegalArgumentException("cannot set up TLS" + (verified && !caFile.isEmpty() ? " with smtp_tls_CAfile " + caFile : "")
            + ": " + e.getMessage());
      }
    });
  }

  /**
   * Whether the server's certificate carries one of {@code names}: its subjectAltName DNS
   * names, or its CN when it has none. A name starting with a dot matches any subdomain; a
   * certificate name {@code *.example.com} matches one label.
   */
  static boolean matches(X509Certificate certificate, List<String> names) {
    return certificateNames(certificate).stream().anyMatch(c -> names.stream().anyMatch(n -> nameMatches(c, n)));
  }

  static boolean nameMatches(String certificateName, String wanted) {
    var cert = certificateName.toLowerCase(Locale.ROOT);
    var name = wanted.toLowerCase(Locale.ROOT);
    if (name.startsWith(".")) return cert.endsWith(name) && cert.length() > name.length() && !cert.startsWith("*");
    if (cert.startsWith("*.")) {
      int dot = name.indexOf('.');
      return dot > 0 && name.substring(dot).equals(cert.substring(1));
    }
    return cert.equals(name);
  }

  static List<String> certificateNames(X509Certificate certificate) {
    if (certificate == null) return List.of();
    var names = new ArrayList<String>();
    try {
      var alt = certificate.getSubjectAlternativeNames();
      if (alt != null) for (var entry : alt) if ((Integer) entry.get(0) == 2) names.add((String) entry.get(1));
    } catch (CertificateParsingException e) {
      return List.of();
    }
    if (!names.isEmpty()) return names;
    try {
      for (var rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) names.add(rdn.getValue().toString());
      }
    } catch (javax.naming.InvalidNameException e) {
      return List.of();
    }
    return names;
  }
}

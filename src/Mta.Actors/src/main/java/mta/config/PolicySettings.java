package mta.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import mta.maps.DomainList;
import mta.maps.Maps;

/**
 * The mail policy settings, under Postfix's parameter names: restriction stages, lookup tables
 * for address classes and rewriting, content checks, and the resolvers DNS checks ask. Read
 * once at start, from the same configuration as {@link MtaConfig}; a mistake (a wrong type, a
 * table that cannot be opened or parsed) is a {@link ConfigError} that names the file and the
 * key. Lists may be HOCON lists or one Postfix-style string ({@code "permit_mynetworks,
 * reject_unauth_destination"}). The tables are opened here, so a broken one stops the node
 * at start; later they reload on their own when their files change.
 *
 * @param smtpd the restriction stages and smtpd's behaviour around them
 * @param addresses address classes, rewriting and routing tables
 * @param content content inspection in cleanup
 */
public record PolicySettings(Smtpd smtpd, Addresses addresses, Content content, Dns dns) {

  /**
   * Restriction lists are kept as written; mta.smtp parses them (and reports mistakes through
   * {@link PolicySettings#error}).
   *
   * @param restrictionClasses {@code smtpd_restriction_classes}: name → restriction list
   */
  public record Smtpd(
      List<String> clientRestrictions,
      List<String> heloRestrictions,
      List<String> senderRestrictions,
      List<String> relayRestrictions,
      List<String> recipientRestrictions,
      List<String> dataRestrictions,
      List<String> endOfDataRestrictions,
      Map<String, List<String>> restrictionClasses,
      boolean delayReject,
      boolean heloRequired,
      boolean strictRfc821Envelopes,
      boolean rejectUnlistedRecipient,
      Duration policyServiceTimeout,
      String policyServiceDefaultAction,
      Map<String, String> origins) {}

  public record Addresses(
      String myorigin,
      String recipientDelimiter,
      DomainList mydestination,
      DomainList relayDomains,
      DomainList virtualAliasDomains,
      DomainList virtualMailboxDomains,
      Maps virtualAliasMaps,
      Maps virtualMailboxMaps,
      Maps localRecipientMaps,
      Maps relayRecipientMaps,
      Maps canonicalMaps,
      Maps senderCanonicalMaps,
      Maps recipientCanonicalMaps,
      Maps relocatedMaps,
      Maps transportMaps,
      Maps senderDependentRelayhostMaps,
      String localTransport,
      String virtualTransport,
      String relayTransport,
      int virtualAliasExpansionLimit,
      int virtualAliasRecursionLimit) {}

  public record Content(Maps headerChecks, Maps mimeHeaderChecks, Maps nestedHeaderChecks, Maps bodyChecks, int bodyChecksSizeLimit) {}

  /** @param resolvers {@code mta.dns.resolvers}; empty: the system's */
  public record Dns(List<HostPort> resolvers, Duration timeout) {}

  /** Reads the policy settings of a loaded node configuration. */
  public static PolicySettings load(MtaConfig mta) {
    var r = new Reader(mta.config(), mta.source());
    try {
      var origins = new LinkedHashMap<String, String>();
      Function<String, List<String>> restrictions = key -> {
        origins.put(key, r.origin(key));
        return r.list(key);
      };
      origins.put("mta.mynetworks", r.origin("mta.mynetworks"));
      var classes = new LinkedHashMap<String, List<String>>();
      var classConfig = r.c.getConfig("mta.smtpd_restriction_classes");
      for (var name : classConfig.root().keySet()) {
        var key = "mta.smtpd_restriction_classes." + name;
        origins.put(key, r.origin(key));
        classes.put(name, r.list(key));
      }
      var smtpd = new Smtpd(
          restrictions.apply("mta.smtpd_client_restrictions"),
          restrictions.apply("mta.smtpd_helo_restrictions"),
          restrictions.apply("mta.smtpd_sender_restrictions"),
          restrictions.apply("mta.smtpd_relay_restrictions"),
          restrictions.apply("mta.smtpd_recipient_restrictions"),
          restrictions.apply("mta.smtpd_data_restrictions"),
          restrictions.apply("mta.smtpd_end_of_data_restrictions"),
          Map.copyOf(classes),
          r.c.getBoolean("mta.smtpd_delay_reject"),
          r.c.getBoolean("mta.smtpd_helo_required"),
          r.c.getBoolean("mta.strict_rfc821_envelopes"),
          r.c.getBoolean("mta.smtpd_reject_unlisted_recipient"),
          r.positive("mta.smtpd_policy_service_timeout"),
          r.c.getString("mta.smtpd_policy_service_default_action"),
          Map.copyOf(origins));
      var myorigin = r.c.getString("mta.myorigin").isBlank() ? mta.myhostname() : r.c.getString("mta.myorigin");
      var addresses = new Addresses(
          myorigin.replace("$myhostname", mta.myhostname()),
          r.c.getString("mta.recipient_delimiter"),
          r.domains("mta.mydestination", mta.mydestination(), false),
          r.domains("mta.relay_domains", mta.relayDomains(), true),
          r.domains("mta.virtual_alias_domains", r.list("mta.virtual_alias_domains"), false),
          r.domains("mta.virtual_mailbox_domains", r.list("mta.virtual_mailbox_domains"), false),
          r.maps("mta.virtual_alias_maps"),
          r.maps("mta.virtual_mailbox_maps"),
          r.maps("mta.local_recipient_maps"),
          r.maps("mta.relay_recipient_maps"),
          r.maps("mta.canonical_maps"),
          r.maps("mta.sender_canonical_maps"),
          r.maps("mta.recipient_canonical_maps"),
          r.maps("mta.relocated_maps"),
          r.maps("mta.transport_maps"),
          r.maps("mta.sender_dependent_relayhost_maps"),
          r.c.getString("mta.local_transport").replace("$myhostname", mta.myhostname()),
          r.c.getString("mta.virtual_transport"),
          r.c.getString("mta.relay_transport"),
          (int) r.positive("mta.virtual_alias_expansion_limit", r.c.getInt("mta.virtual_alias_expansion_limit")),
          (int) r.positive("mta.virtual_alias_recursion_limit", r.c.getInt("mta.virtual_alias_recursion_limit")));
      // Postfix's defaults: mime_header_checks = $header_checks, nested_header_checks = $header_checks.
      var headerChecks = r.maps("mta.header_checks");
      var content = new Content(
          headerChecks,
          r.c.hasPath("mta.mime_header_checks") ? r.maps("mta.mime_header_checks") : headerChecks,
          r.c.hasPath("mta.nested_header_checks") ? r.maps("mta.nested_header_checks") : headerChecks,
          r.maps("mta.body_checks"),
          (int) r.positive("mta.body_checks_size_limit", r.c.getInt("mta.body_checks_size_limit")));
      var dns = new Dns(
          r.list("mta.dns.resolvers").stream().map(s -> r.check("mta.dns.resolvers", s, HostPort::parse)).toList(),
          r.positive("mta.dns.timeout"));
      return new PolicySettings(smtpd, addresses, content, dns);
    } catch (ConfigException e) {
      throw new ConfigError(mta.source() + ": " + e.getMessage());
    }
  }

  /**
   * A mistake in the setting {@code key} (say, an unknown restriction), worded like every
   * configuration error: {@code node.conf: 12: mta.smtpd_recipient_restrictions: ...}.
   */
  public ConfigError error(String key, String message) {
    return new ConfigError(smtpd.origins().getOrDefault(key, key) + ": " + key + ": " + message);
  }

  /** Reads values of one configuration, wrapping every mistake with file and key. */
  private static final class Reader {
    final Config c;
    final String source;

    Reader(Config c, String source) {
      this.c = c;
      this.source = source;
    }

    String origin(String key) {
      return c.hasPath(key) ? c.getValue(key).origin().description() : source;
    }

    ConfigError error(String key, String message) {
      return new ConfigError(origin(key) + ": " + key + ": " + message);
    }

    /** A HOCON list of strings, or one string split at commas and white space as Postfix does. */
    List<String> list(String key) {
      if (c.getValue(key).valueType() == ConfigValueType.STRING) return Maps.split(c.getString(key));
      var items = new ArrayList<String>();
      for (var item : c.getStringList(key)) items.addAll(Maps.split(item));
      return List.copyOf(items);
    }

    Maps maps(String key) {
      var specs = list(key);
      try {
        return Maps.open(key.substring(key.lastIndexOf('.') + 1), specs);
      } catch (ConfigError e) {
        throw error(key, e.getMessage());
      }
    }

    DomainList domains(String key, List<String> items, boolean subdomains) {
      try {
        return DomainList.of(items, subdomains);
      } catch (ConfigError e) {
        throw error(key, e.getMessage());
      }
    }

    Duration positive(String key) {
      var d = c.getDuration(key);
      if (d.isNegative() || d.isZero()) throw error(key, "must be positive, not " + d);
      return d;
    }

    long positive(String key, long value) {
      if (value <= 0) throw error(key, "must be positive, not " + value);
      return value;
    }

    <T> T check(String key, String value, Function<String, T> parse) {
      try {
        return parse.apply(value);
      } catch (IllegalArgumentException e) {
        throw error(key, e.getMessage());
      }
    }
  }
}

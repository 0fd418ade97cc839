package mta.smtp;

import java.time.Duration;
import mta.anvil.AnvilClient;
import mta.anvil.ClientLimits;
import mta.config.ConfigError;
import mta.config.MtaConfig;
import mta.config.PolicySettings;
import mta.ingest.Cleanup;
import mta.maps.KeyOrder;
import mta.maps.Maps;
import mta.routing.TransportResolver;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * What every smtpd session of a node shares: settings, TLS and SASL, policy, cleanup, routing
 * and the queue.
 *
 * @param sasl {@code smtpd_sasl_password_maps}; null when empty (no SMTP AUTH)
 * @param authOnlyWithTls {@code smtpd_tls_auth_only}
 * @param limits the per-client limits anvil counts for
 * @param anvil null when no limit is on
 * @param home this node's home tag: queue ids made here name it ({@link mta.queue.QueueId})
 * @param headerSizeLimit {@code header_size_limit}: octets of one header field
 * @param processLimit {@code default_process_limit}: sessions of this node at once, all ports together
 */
record SmtpdServices(
    SmtpdSettings settings,
    SmtpdTls tls,
    SaslPasswords sasl,
    boolean authOnlyWithTls,
    SmtpChecks checks,
    Cleanup cleanup,
    TransportResolver resolver,
    ClusterSharding sharding,
    String home,
    Duration journalTimeout,
    ClientLimits limits,
    AnvilClient anvil,
    PregreetTest pregreet,
    int headerSizeLimit,
    int processLimit) {

  /** How long a session waits for anvil before it carries on without the limits. */
  private static final Duration ANVIL_TIMEOUT = Duration.ofSeconds(2);

  static SmtpdServices from(MtaConfig config, ClusterSharding sharding, String home) {
    var policy = PolicySettings.load(config);
    var c = config.config();
    var tls = SmtpdTls.from(c, !c.getString(SmtpServer.Service.SUBMISSIONS.key()).isBlank());
    var saslMaps = c.getStringList("mta.smtpd_sasl_password_maps");
    var sasl = saslMaps.isEmpty() ? null : SaslPasswords.bcrypt(Maps.open("smtpd_sasl_password_maps", saslMaps));
    var settings = new SmtpdSettings(config.myhostname(), config.messageSizeLimit(), config.smtpdRecipientLimit(),
        SmtpdSettings.DEFAULT_RECIPIENT_OVERSHOOT_LIMIT, config.smtpdHardErrorLimit(), "mta", tls.level() != SmtpdTls.Level.NONE,
        policy.smtpd().heloRequired(), policy.smtpd().strictRfc821Envelopes());
    var a = policy.addresses();
    var keys = new KeyOrder(a.recipientDelimiter());
    var resolver = TransportResolver.from(config, policy);
    var dns = new SmtpdDns(policy.dns().resolvers(), policy.dns().timeout());
    RelayChecks relay;
    try {
      relay = new RelayChecks(config.mynetworks(), resolver, dns, config.myhostname());
    } catch (IllegalArgumentException e) {
      throw policy.error("mta.mynetworks", e.getMessage());
    }
    var smtpd = policy.smtpd();
    var checks = new Restrictions(Restrictions.stages(policy),
        new Restrictions.RecipientTables(a.localRecipientMaps(), a.virtualMailboxMaps(), a.relayRecipientMaps(),
            a.virtualAliasMaps(), a.canonicalMaps(), a.senderCanonicalMaps(), a.recipientCanonicalMaps()),
        new Restrictions.Settings(smtpd.delayReject(), smtpd.rejectUnlistedRecipient(), smtpd.policyServiceDefaultAction()),
        relay, resolver, dns, keys, smtpd.policyServiceTimeout());
    var content = policy.content();
    var cleanup = new Cleanup(new Cleanup.Settings(config.myhostname(), a.myorigin(), keys, resolver::isLocal,
        a.canonicalMaps(), a.senderCanonicalMaps(), a.recipientCanonicalMaps(), a.virtualAliasMaps(),
        a.virtualAliasExpansionLimit(), a.virtualAliasRecursionLimit(), content.headerChecks(),
        content.mimeHeaderChecks(), content.nestedHeaderChecks(), content.bodyChecks(), content.bodyChecksSizeLimit()));
    // Longer than the journal's call timeout (10 s, hocon/mta-node.conf), so a failed write is
    // what answers, and a client still gets its 451 well inside its own DATA timeout.
    var limits = ClientLimits.from(c, config.mynetworks());
    var pregreet = new PregreetTest(nonNegative(c, "mta.postscreen_greet_wait"), nonNegative(c, "mta.postscreen_greet_ttl"),
        config.mynetworks());
    int processLimit = c.getInt("mta.default_process_limit");
    if (processLimit < 1) throw policy.error("mta.default_process_limit", "must be positive, not " + processLimit);
    int headerSizeLimit = c.getInt("mta.header_size_limit");
    if (headerSizeLimit < 1) throw policy.error("mta.header_size_limit", "must be positive, not " + headerSizeLimit);
    return new SmtpdServices(settings, tls, sasl, c.getBoolean("mta.smtpd_tls_auth_only"), checks, cleanup, resolver,
        sharding, home, Duration.ofSeconds(15), limits, limits.any() ? AnvilClient.sharded(sharding, ANVIL_TIMEOUT) : null,
        pregreet, headerSizeLimit, processLimit);
  }

  private static Duration nonNegative(com.typesafe.config.Config c, String key) {
    var value = c.getDuration(key);
    if (value.isNegative()) throw new ConfigError(c.getValue(key).origin().description() + ": " + key + ": must not be negative");
    return value;
  }

  /** What a listening port asks of its clients: the submission ports want AUTH, 465 is TLS throughout. */
  SmtpServerProtocol.Security security(SmtpServer.Service service) {
    return new SmtpServerProtocol.Security(service.name().toLowerCase(java.util.Locale.ROOT), tls.level() == SmtpdTls.Level.ENCRYPT && service != SmtpServer.Service.SUBMISSIONS,
        service == SmtpServer.Service.SUBMISSIONS, service != SmtpServer.Service.SMTP, authOnlyWithTls, sasl);
  }
}

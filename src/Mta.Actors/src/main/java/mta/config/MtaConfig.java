package mta.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The node's settings: the operator's HOCON file layered over {@code hocon/reference.conf},
 * the journal profile chosen by {@code mta.persistence} and Pekko's own defaults. Every
 * setting is read and checked here, once, at start; a mistake stops the node with a message
 * that names the key and the file.
 */
public record MtaConfig(
    Config config,
    String source,
    String myhostname,
    List<String> mydestination,
    List<String> mynetworks,
    List<String> relayDomains,
    String relayhost,
    List<String> transportMaps,
    String defaultTransport,
    long messageSizeLimit,
    int smtpdRecipientLimit,
    int smtpdHardErrorLimit,
    Duration smtpdTimeout,
    HostPort listenSmtp,
    Path dataDirectory,
    Persistence persistence,
    QueueSettings queue,
    SmtpClientSettings smtp,
    ManagementSettings management) {

  public enum Persistence { H2, POSTGRES, SQLSERVER }

  /**
   * qmgr's timers and limits. {@code delayWarningTime} zero means no delay warnings (Postfix's
   * 0h); {@code byTransport} holds the {@code <transport>_destination_*} overrides.
   */
  public record QueueSettings(
      Duration minimalBackoffTime,
      Duration maximalBackoffTime,
      Duration queueRunDelay,
      Duration maximalQueueLifetime,
      Duration delayWarningTime,
      DestinationLimits defaults,
      Map<String, DestinationLimits> byTransport,
      Duration deliveryLeaseTimeout) {

    public QueueSettings {
      byTransport = Map.copyOf(byTransport);
    }

    /** The limits of the destinations of {@code transport}: its overrides, else the defaults. */
    public DestinationLimits limitsFor(String transport) {
      return byTransport.getOrDefault(transport, defaults);
    }
  }

  /**
   * How qmgr treats each destination of one transport: {@code initial_destination_concurrency},
   * {@code destination_concurrency_limit}, {@code destination_recipient_limit} and
   * {@code destination_rate_delay}, each with its transport's prefix or {@code default_}.
   */
  public record DestinationLimits(int initialConcurrency, int concurrencyLimit, int recipientLimit, Duration rateDelay) {}

  /** The per-transport parameters, by suffix: {@code smtp_destination_concurrency_limit} and friends. */
  private static final Pattern PER_TRANSPORT = Pattern.compile(
      "(.+)_(initial_destination_concurrency|destination_concurrency_limit|destination_recipient_limit|destination_rate_delay)");

  /** The smtp client's timeouts. */
  public record SmtpClientSettings(
      Duration connectTimeout, Duration heloTimeout, Duration dataDoneTimeout, Duration connectionCacheTimeLimit) {}

  /**
   * The management endpoint ({@code mta.management}): where it listens, the bearer token if one
   * is set, whether {@code listen} is a loopback address, and how queue listings and metrics work.
   */
  public record ManagementSettings(
      HostPort listen, Optional<String> token, boolean loopback, int parallelism, Duration askTimeout,
      int metricsDestinations, Duration queueSampleInterval) {}

  /** Loads the node configuration; {@code file} may be absent (defaults only). */
  public static MtaConfig load(Optional<Path> file) {
    Config user = file.map(MtaConfig::parseFile).orElse(ConfigFactory.empty());
    String source = file.map(Path::toString).orElse("defaults");
    Config base = user.withFallback(ConfigFactory.parseResources("mta-node.conf"))
        .withFallback(ConfigFactory.defaultReference());
    return read(base, source);
  }

  private static Config parseFile(Path file) {
    if (!Files.isReadable(file)) throw new ConfigError(file + ": cannot read the configuration file");
    try {
      return ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new ConfigError(e.getMessage());
    }
  }

  static MtaConfig read(Config unresolved, String source) {
    try {
      var pre = unresolved.resolve();
      var persistence = Persistence.valueOf(check(pre, "mta.persistence", pre::getString, s -> {
        var v = s.toUpperCase(Locale.ROOT);
        if (List.of("H2", "POSTGRES", "SQLSERVER").contains(v)) return v;
        throw new IllegalArgumentException("must be h2, postgres or sqlserver, not '" + s + "'");
      }));
      var dataDirectory = Path.of(pre.getString("mta.data_directory")).toAbsolutePath().normalize();
      // H2 takes its page cache in KB, in its URL (hocon/persistence-h2.conf)
      long h2CacheKb = pre.getBytes("mta.journal_h2_cache_size") / 1024;
      if (h2CacheKb < 1024) {
        var value = pre.getValue("mta.journal_h2_cache_size");
        throw new ConfigError(value.origin().description() + ": mta.journal_h2_cache_size: must be at least 1M, not "
            + value.unwrapped());
      }
      var withJournal = unresolved
          .withFallback(ConfigFactory.parseResources("persistence-" + persistence.name().toLowerCase(Locale.ROOT) + ".conf"))
          .withValue("mta.journal_h2_path", ConfigValueFactory.fromAnyRef(dataDirectory.resolve("journal").toString()))
          .withValue("mta.journal_h2_cache_kb", ConfigValueFactory.fromAnyRef(h2CacheKb));
      var c = withJournal.resolve();
      var hostname = c.getString("mta.myhostname").isBlank() ? localHostName() : c.getString("mta.myhostname");
      Function<List<String>, List<String>> expand = l -> l.stream().map(d -> d.replace("$myhostname", hostname)).toList();
      return new MtaConfig(
          c,
          source,
          hostname,
          expand.apply(c.getStringList("mta.mydestination")),
          c.getStringList("mta.mynetworks"),
          c.getStringList("mta.relay_domains"),
          c.getString("mta.relayhost"),
          c.getStringList("mta.transport_maps"),
          c.getString("mta.default_transport"),
          positive(c, "mta.message_size_limit", c.getBytes("mta.message_size_limit")),
          (int) positive(c, "mta.smtpd_recipient_limit", c.getInt("mta.smtpd_recipient_limit")),
          (int) positive(c, "mta.smtpd_hard_error_limit", c.getInt("mta.smtpd_hard_error_limit")),
          c.getDuration("mta.smtpd_timeout"),
          check(c, "mta.listen.smtp", c::getString, HostPort::parse),
          dataDirectory,
          persistence,
          new QueueSettings(
              c.getDuration("mta.minimal_backoff_time"),
              c.getDuration("mta.maximal_backoff_time"),
              c.getDuration("mta.queue_run_delay"),
              c.getDuration("mta.maximal_queue_lifetime"),
              notNegative(c, "mta.delay_warning_time"),
              defaultLimits(c),
              perTransport(c, defaultLimits(c)),
              c.getDuration("mta.delivery_lease_timeout")),
          new SmtpClientSettings(
              c.getDuration("mta.smtp_connect_timeout"),
              c.getDuration("mta.smtp_helo_timeout"),
              c.getDuration("mta.smtp_data_done_timeout"),
              c.getDuration("mta.smtp_connection_cache_time_limit")),
          management(c));
    } catch (ConfigException e) {
      throw new ConfigError(source + ": " + e.getMessage());
    }
  }

  private static <T> T check(Config c, String key, Function<String, String> get, Function<String, T> parse) {
    try {
      return parse.apply(get.apply(key));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(c.getValue(key).origin().description() + ": " + key + ": " + e.getMessage());
    }
  }

  private static long positive(Config c, String key, long value) {
    if (value <= 0) throw new ConfigError(c.getValue(key).origin().description() + ": " + key + ": must be positive, not " + value);
    return value;
  }

  private static Duration notNegative(Config c, String key) {
    var value = c.getDuration(key);
    if (value.isNegative()) throw new ConfigError(c.getValue(key).origin().description() + ": " + key + ": must not be negative, not " + value);
    return value;
  }

  /** initial_destination_concurrency and the default_destination_* values. */
  private static DestinationLimits defaultLimits(Config c) {
    Function<String, String> path = suffix -> suffix.startsWith("initial_") ? "mta." + suffix : "mta.default_" + suffix;
    return destinationLimits(c, path, null);
  }

  /**
   * One transport's destination limits: each parameter at {@code path.apply(suffix)} when
   * set, else {@code fallback}'s (the defaults have none: reference.conf sets them all).
   */
  private static DestinationLimits destinationLimits(Config c, Function<String, String> path, DestinationLimits fallback) {
    Function<String, Boolean> given = suffix -> fallback == null || c.hasPath(path.apply(suffix));
    Function<String, Integer> count = suffix -> (int) positive(c, path.apply(suffix), c.getInt(path.apply(suffix)));
    return new DestinationLimits(
        given.apply("initial_destination_concurrency") ? count.apply("initial_destination_concurrency") : fallback.initialConcurrency(),
        given.apply("destination_concurrency_limit") ? count.apply("destination_concurrency_limit") : fallback.concurrencyLimit(),
        given.apply("destination_recipient_limit") ? count.apply("destination_recipient_limit") : fallback.recipientLimit(),
        given.apply("destination_rate_delay") ? notNegative(c, path.apply("destination_rate_delay")) : fallback.rateDelay());
  }

  /** Every transport named by a {@code <transport>_destination_*} key, with its limits. */
  private static Map<String, DestinationLimits> perTransport(Config c, DestinationLimits defaults) {
    var transports = new TreeSet<String>();
    for (var key : c.getObject("mta").keySet()) {
      var m = PER_TRANSPORT.matcher(key);
      if (m.matches() && !m.group(1).equals("default")) transports.add(m.group(1));
    }
    var limits = new LinkedHashMap<String, DestinationLimits>();
    for (var t : transports) {
      limits.put(t, destinationLimits(c, suffix -> ConfigUtil.joinPath("mta", t + "_" + suffix), defaults));
    }
    return limits;
  }

  /** Never exposed without a token: a non-loopback listen address without one stops the node. */
  private static ManagementSettings management(Config c) {
    var listen = check(c, "mta.management.listen", c::getString, HostPort::parse);
    var tokenFile = c.getString("mta.management.token_file");
    var token = tokenFile.isBlank() ? c.getString("mta.management.token").strip()
        : check(c, "mta.management.token_file", c::getString, MtaConfig::readToken);
    var loopback = check(c, "mta.management.listen", c::getString, v -> isLoopback(listen.host()));
    if (token.isEmpty() && !loopback) {
      throw new ConfigError(c.getValue("mta.management.listen").origin().description() + ": mta.management.listen: "
          + listen + " is not a loopback address: set mta.management.token or mta.management.token_file");
    }
    return new ManagementSettings(listen, Optional.of(token).filter(t -> !t.isEmpty()), loopback,
        (int) positive(c, "mta.management.parallelism", c.getInt("mta.management.parallelism")),
        c.getDuration("mta.management.ask_timeout"),
        (int) positive(c, "mta.management.metrics_destinations", c.getInt("mta.management.metrics_destinations")),
        c.getDuration("mta.management.queue_sample_interval"));
  }

  private static String readToken(String file) {
    try {
      var token = Files.readString(Path.of(file)).strip();
      if (token.isEmpty()) throw new IllegalArgumentException(file + " is empty");
      return token;
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read the token file " + file);
    }
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("unknown host " + host);
    }
  }

  private static String localHostName() {
    try {
      return InetAddress.getLocalHost().getCanonicalHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}

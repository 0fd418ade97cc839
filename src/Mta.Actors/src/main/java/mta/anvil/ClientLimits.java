package mta.anvil;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import mta.config.ConfigError;
import mta.maps.Cidr;

/**
 * smtpd's per-client limits, under Postfix's names; 0 turns a limit off.
 *
 * @param connectionCount {@code smtpd_client_connection_count_limit}: connections open at once
 * @param connectionRate {@code smtpd_client_connection_rate_limit}: connections per time unit
 * @param messageRate {@code smtpd_client_message_rate_limit}: MAIL commands per time unit
 * @param recipientRate {@code smtpd_client_recipient_rate_limit}: RCPT commands per time unit
 * @param authRate {@code smtpd_client_auth_rate_limit}: AUTH commands per time unit
 * @param timeUnit {@code anvil_rate_time_unit}
 * @param exceptions {@code smtpd_client_event_limit_exceptions}: clients no limit applies to
 */
public record ClientLimits(
    int connectionCount, int connectionRate, int messageRate, int recipientRate, int authRate,
    Duration timeUnit, List<Cidr> exceptions) {

  /** No limit at all: anvil is never asked. */
  public static final ClientLimits NONE = new ClientLimits(0, 0, 0, 0, 0, Duration.ofSeconds(60), List.of());

  public ClientLimits {
    exceptions = List.copyOf(exceptions);
  }

  /** Reads the {@code mta.*} keys; {@code $mynetworks} in the exceptions stands for that list. */
  public static ClientLimits from(Config c, List<String> mynetworks) {
    var exceptions = c.getStringList("mta.smtpd_client_event_limit_exceptions").stream()
        .flatMap(e -> e.equals("$mynetworks") ? mynetworks.stream() : java.util.stream.Stream.of(e))
        .map(e -> {
          try {
            return Cidr.parse(e);
          } catch (IllegalArgumentException bad) {
            throw error(c, "mta.smtpd_client_event_limit_exceptions", bad.getMessage());
          }
        })
        .toList();
    var timeUnit = c.getDuration("mta.anvil_rate_time_unit");
    if (timeUnit.toMillis() < 1) throw error(c, "mta.anvil_rate_time_unit", "must be positive, not " + timeUnit);
    return new ClientLimits(limit(c, "mta.smtpd_client_connection_count_limit"), limit(c, "mta.smtpd_client_connection_rate_limit"),
        limit(c, "mta.smtpd_client_message_rate_limit"), limit(c, "mta.smtpd_client_recipient_rate_limit"),
        limit(c, "mta.smtpd_client_auth_rate_limit"), timeUnit, exceptions);
  }

  private static int limit(Config c, String key) {
    int value;
    try {
      value = c.getInt(key);
    } catch (ConfigException.WrongType e) {
      throw error(c, key, "must be a whole number (0: no limit), not '" + c.getValue(key).unwrapped() + "'");
    }
    if (value < 0) throw error(c, key, "must be 0 (no limit) or more, not " + value);
    return value;
  }

  private static ConfigError error(Config c, String key, String why) {
    return new ConfigError(c.getValue(key).origin().description() + ": " + key + ": " + why);
  }

  /** The client is in {@code smtpd_client_event_limit_exceptions}. */
  public boolean exempt(InetAddress client) {
    return exceptions.stream().anyMatch(network -> network.matches(client));
  }

  /** Connections are counted at connect time. */
  public boolean countsConnections() {
    return connectionCount > 0 || connectionRate > 0;
  }

  /** MAIL is counted (it also brings the recipient rate so far). */
  public boolean countsMail() {
    return messageRate > 0 || recipientRate > 0;
  }

  /** Some limit is on: anvil entities are needed. */
  public boolean any() {
    return countsConnections() || countsMail() || authRate > 0;
  }
}

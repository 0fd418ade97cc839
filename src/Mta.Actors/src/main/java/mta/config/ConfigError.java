package mta.config;

/** A configuration mistake, worded for the operator: it names the file and the key. */
public final class ConfigError extends RuntimeException {
  public ConfigError(String message) {
    super(message);
  }
}

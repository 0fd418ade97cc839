package mta.maps;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import mta.config.ConfigError;

/**
 * {@code inline:{ key=value, { key = text with spaces, or commas } }}: a table written in the
 * setting itself. Keys compare in lower case; white space around {@code =} is dropped.
 */
final class InlineTable implements LookupTable {
  private final String name;
  private final Map<String, String> entries;

  InlineTable(String name, String body) {
    this.name = name;
    var inner = unbrace(body);
    if (inner == null) throw new ConfigError(name + ": expected inline:{ key=value, ... }");
    var entries = new HashMap<String, String>();
    for (var item : Maps.split(inner)) {
      var entry = item.startsWith("{") ? unbrace(item) : item;
      int eq = entry == null ? -1 : entry.indexOf('=');
      if (eq <= 0) throw new ConfigError(name + ": expected key=value, got '" + item + "'");
      entries.put(entry.substring(0, eq).strip().toLowerCase(Locale.ROOT), entry.substring(eq + 1).strip());
    }
    this.entries = Map.copyOf(entries);
  }

  /** The text inside {@code { }}, stripped, or null when it is not braced. */
  static String unbrace(String text) {
    var t = text.strip();
    return t.startsWith("{") && t.endsWith("}") ? t.substring(1, t.length() - 1).strip() : null;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Optional<String> get(String key) {
    return Optional.ofNullable(entries.get(key.toLowerCase(Locale.ROOT)));
  }
}

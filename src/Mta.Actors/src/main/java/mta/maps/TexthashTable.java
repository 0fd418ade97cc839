package mta.maps;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code texthash:} (and {@code hash:}, read from the same source file: we keep no
 * {@code .db} files) — {@code key whitespace value} lines, keys compared in lower case. A
 * key ending in a colon is an aliases(5) line ({@code name: a, b}), read as postalias would
 * read it, so {@code local_recipient_maps = ... $alias_maps} works as in Postfix.
 */
final class TexthashTable implements LookupTable {
  private final String name;
  private final TableFile<Map<String, String>> file;

  TexthashTable(String name, Path path) {
    this.name = name;
    this.file = new TableFile<>(name, path, TexthashTable::parse);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Optional<String> get(String key) {
    return Optional.ofNullable(file.current().get(key.toLowerCase(Locale.ROOT)));
  }

  private static Map<String, String> parse(List<TableFile.Line> lines) {
    var entries = new HashMap<String, String>();
    for (var line : lines) {
      var parts = line.text().split("\\s+", 2);
      if (parts.length < 2) throw line.error("expected 'key value', got '" + line.text() + "'");
      var key = parts[0].endsWith(":") ? parts[0].substring(0, parts[0].length() - 1) : parts[0];
      entries.put(key.toLowerCase(Locale.ROOT), parts[1]);
    }
    return Map.copyOf(entries);
  }
}

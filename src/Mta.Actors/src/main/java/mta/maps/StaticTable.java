package mta.maps;

import java.util.Optional;

/** {@code static:value} (or {@code static:{ text with spaces }}): every key finds {@code value}. */
record StaticTable(String name, String value) implements LookupTable {

  static StaticTable of(String name, String body) {
    var braced = InlineTable.unbrace(body);
    return new StaticTable(name, braced != null ? braced : body);
  }

  @Override
  public Optional<String> get(String key) {
    return Optional.of(value);
  }
}

package mta.maps;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import mta.config.ConfigError;

/**
 * A list of lookup tables, as a Postfix parameter names them ({@code virtual_alias_maps =
 * texthash:/a, sql:/b}), searched in order: the first table that has a key answers. Postfix's
 * {@code maps.c}.
 *
 * <p>A table is opened once per node, however many parameters name it, and shared.
 */
public final class Maps {
  private static final ConcurrentHashMap<String, LookupTable> OPEN = new ConcurrentHashMap<>();

  public static final Maps NONE = new Maps("", List.of());

  /** A key of an evaluation order; {@code extension} is what was cut off to make it, or null. */
  public record Key(String text, boolean partial, String extension) {
    public static Key full(String text) {
      return new Key(text, false, null);
    }

    public static Key partial(String text) {
      return new Key(text, true, null);
    }
  }

  /** What a search found: the key that matched and its value. */
  public record Found(Key key, String value) {}

  private final String title;
  private final List<LookupTable> tables;

  private Maps(String title, List<LookupTable> tables) {
    this.title = title;
    this.tables = List.copyOf(tables);
  }

  /**
   * Opens the tables of one parameter.
   *
   * @param title the parameter, for log lines: {@code virtual_alias_maps}
   * @throws ConfigError for an unknown type or a table that cannot be read or parsed
   */
  public static Maps open(String title, List<String> specs) {
    return new Maps(title, specs.stream().map(Maps::table).toList());
  }

  /** One table, {@code type:name}; the same spec gives the same, shared table. */
  public static LookupTable table(String spec) {
    var existing = OPEN.get(spec);
    return existing != null ? existing : OPEN.computeIfAbsent(spec, Maps::create);
  }

  private static LookupTable create(String spec) {
    int colon = spec.indexOf(':');
    if (colon <= 0) throw new ConfigError("lookup table '" + spec + "': expected type:name");
    var type = spec.substring(0, colon);
    var name = spec.substring(colon + 1);
    return switch (type) {
      // hash: reads the same source file as texthash (we keep no .db files).
      case "texthash", "hash" -> new TexthashTable(spec, Path.of(name));
      case "regexp" -> new PatternTable(spec, Path.of(name), PatternTable.Syntax.REGEXP);
      case "pcre" -> new PatternTable(spec, Path.of(name), PatternTable.Syntax.PCRE);
      case "cidr" -> new PatternTable(spec, Path.of(name), PatternTable.Syntax.CIDR);
      case "inline" -> new InlineTable(spec, name);
      case "static" -> StaticTable.of(spec, name);
      case "sql", "pgsql" -> new SqlTable(spec, Path.of(name));
      default -> throw new ConfigError("lookup table '" + spec + "': unsupported table type '" + type + "'");
    };
  }

  public String title() {
    return title;
  }

  public boolean isEmpty() {
    return tables.isEmpty();
  }

  /** The first table's value for a whole key. @throws LookupFailure */
  public Optional<String> find(String key) {
    return search(List.of(Key.full(key))).map(Found::value);
  }

  /**
   * Tries the keys in order, each in every table before the next key; partial keys skip
   * pattern tables (see {@link LookupTable#fixed}).
   *
   * @throws LookupFailure when a table cannot answer: a later key or table must not answer
   *     in its place
   */
  public Optional<Found> search(List<Key> keys) {
    for (var key : keys) {
      for (var table : tables) {
        if (key.partial() && !table.fixed()) continue;
        var value = table.get(key.text());
        if (value.isPresent()) return Optional.of(new Found(key, value.get()));
      }
    }
    return Optional.empty();
  }

  /**
   * Splits a Postfix list at commas and white space, keeping {@code { ... }} groups whole:
   * {@code "a, b inline:{ x=1, y=2 }"} is three items.
   */
  public static List<String> split(String text) {
    var items = new ArrayList<String>();
    var item = new StringBuilder();
    int depth = 0;
    for (char c : text.toCharArray()) {
      if (depth == 0 && (c == ',' || Character.isWhitespace(c))) {
        if (!item.isEmpty()) items.add(item.toString());
        item.setLength(0);
        continue;
      }
      if (c == '{') depth++;
      else if (c == '}' && depth > 0) depth--;
      item.append(c);
    }
    if (!item.isEmpty()) items.add(item.toString());
    return items;
  }

  @Override
  public String toString() {
    return title;
  }
}

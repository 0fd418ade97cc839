package mta.maps;

import java.util.Optional;

/** A Postfix lookup table ({@code type:name}): a key in, a value or nothing out. */
public sealed interface LookupTable permits TexthashTable, PatternTable, InlineTable, StaticTable, SqlTable {

  /**
   * The value for {@code key}, or empty.
   *
   * @throws LookupFailure when the table cannot answer now (its database is down): the
   *     caller answers with a temporary error, never as if the key were absent
   */
  Optional<String> get(String key);

  /** The table as the operator named it, {@code texthash:/etc/mta/transport}. */
  String name();

  /**
   * False for {@code regexp:}, {@code pcre:} and {@code cidr:}: a pattern sees only whole
   * keys (a whole address, host name or IP address), never the partial keys of an
   * evaluation order ({@code domain}, {@code user@}, parent domains, {@code 1.2.3}).
   */
  default boolean fixed() {
    return true;
  }
}

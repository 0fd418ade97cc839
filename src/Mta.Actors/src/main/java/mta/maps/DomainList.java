package mta.maps;

import java.util.ArrayList;
import java.util.List;
import mta.mail.MailAddress;

/**
 * A list of domains as Postfix parameters give them ({@code mydestination},
 * {@code relay_domains}, {@code virtual_alias_domains}): names and {@code type:table}s whose
 * keys are domains, tried in order; {@code !name} excludes. In a list that covers subdomains
 * ({@code relay_domains}, as Postfix's default {@code parent_domain_matches_subdomains} has it)
 * {@code example.com} also matches {@code mx.example.com} and {@code .example.com} matches
 * subdomains only; in the others a name matches only itself. Postfix's {@code match_list}.
 */
public final class DomainList {
  public static final DomainList NONE = new DomainList(List.of(), false);

  private sealed interface Entry {
    boolean negated();
  }

  private record Name(String domain, boolean negated) implements Entry {}

  private record Table(LookupTable table, boolean negated) implements Entry {}

  private final List<Entry> entries;
  private final boolean subdomains;

  private DomainList(List<Entry> entries, boolean subdomains) {
    this.entries = List.copyOf(entries);
    this.subdomains = subdomains;
  }

  /**
   * @param subdomains whether a name also covers its subdomains
   * @throws mta.config.ConfigError for a table that cannot be opened
   */
  public static DomainList of(List<String> items, boolean subdomains) {
    return new DomainList(items.stream().flatMap(i -> Maps.split(i).stream()).map(item -> {
      boolean negated = item.startsWith("!");
      var text = negated ? item.substring(1) : item;
      return text.indexOf(':') > 0 && !text.startsWith("[")
          ? (Entry) new Table(Maps.table(text), negated)
          : new Name(MailAddress.normalizeDomain(text), negated);
    }).toList(), subdomains);
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  /** @throws LookupFailure when a table cannot answer */
  public boolean matches(String domain) {
    var d = MailAddress.normalizeDomain(domain);
    for (var entry : entries) {
      boolean hit = switch (entry) {
        case Name(var name, var negated) -> name.equals(d)
            || (subdomains && (name.startsWith(".") ? d.endsWith(name) : d.endsWith("." + name)));
        case Table(var table, var negated) -> table.get(d).isPresent()
            || (subdomains && parents(d).stream().anyMatch(p -> table.get(p).isPresent()));
      };
      if (hit) return !entry.negated();
    }
    return false;
  }

  /** {@code mx.example.com} → {@code example.com}, {@code com}. */
  private static List<String> parents(String domain) {
    if (domain.startsWith("[")) return List.of();
    var parents = new ArrayList<String>();
    for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) parents.add(domain.substring(dot + 1));
    return parents;
  }
}

package mta.ingest;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import mta.mail.MailAddress;
import mta.maps.KeyOrder;
import mta.maps.LookupFailure;
import mta.maps.Maps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cleanup's address rewriting (Postfix's {@code cleanup_map11} and {@code cleanup_map1n}):
 * canonical mapping, one address to one, for the sender ({@code sender_canonical_maps}, then
 * {@code canonical_maps}) and each recipient ({@code recipient_canonical_maps}, then
 * {@code canonical_maps}); then virtual alias expansion of each recipient, one to many.
 *
 * <p>A table result is a list of addresses; {@code @domain} keeps the local part and changes
 * the domain, an address without a domain gets {@code myorigin}. When the key matched without
 * the address extension ({@code user@domain} for {@code user+ext@domain}), the extension is
 * put back into each result (Postfix's {@code propagate_unmatched_extensions}).
 *
 * <p>Virtual aliases expand again until no result has an alias of its own. An address may
 * expand into itself (it is then kept); any other cycle ({@code a → b → a}), more than
 * {@code virtual_alias_expansion_limit} addresses or deeper nesting than
 * {@code virtual_alias_recursion_limit} is an {@link ExpansionError}: the message is not
 * accepted, try again later (as Postfix does, with {@code 4.6.0 Alias expansion error}).
 */
final class AddressMapping {
  private static final Logger log = LoggerFactory.getLogger("cleanup");

  /** The expansion cannot be done now (loop, limit, or a table that cannot answer). */
  static final class ExpansionError extends Exception {
    ExpansionError(String message) {
      super(message, null, false, false);
    }
  }

  private final KeyOrder keys;
  private final Predicate<String> localDomain;
  private final String myorigin;
  private final Maps canonical;
  private final Maps senderCanonical;
  private final Maps recipientCanonical;
  private final Maps virtualAlias;
  private final int expansionLimit;
  private final int recursionLimit;

  AddressMapping(Cleanup.Settings s) {
    this.keys = s.keys();
    this.localDomain = s.localDomain();
    this.myorigin = s.myorigin();
    this.canonical = s.canonicalMaps();
    this.senderCanonical = s.senderCanonicalMaps();
    this.recipientCanonical = s.recipientCanonicalMaps();
    this.virtualAlias = s.virtualAliasMaps();
    this.expansionLimit = s.virtualAliasExpansionLimit();
    this.recursionLimit = s.virtualAliasRecursionLimit();
  }

  /** An address without a domain gets {@code @myorigin} (Postfix's {@code append_at_myorigin}). */
  MailAddress qualify(MailAddress address) {
    return address.isNullSender() || !address.domain().isEmpty() ? address : new MailAddress(address.localPart(), myorigin);
  }

  /** @throws LookupFailure */
  MailAddress sender(MailAddress sender) {
    if (sender.isNullSender()) return sender;
    return oneToOne(oneToOne(qualify(sender), senderCanonical), canonical);
  }

  /** Canonical, then virtual alias: the addresses a recipient ends up as, in order, without duplicates. */
  List<MailAddress> recipient(MailAddress recipient) throws ExpansionError {
    MailAddress canonicalized;
    try {
      canonicalized = oneToOne(oneToOne(qualify(recipient), recipientCanonical), canonical);
    } catch (LookupFailure e) {
      throw new ExpansionError("canonical map lookup problem for " + recipient + ": " + e.getMessage());
    }
    return virtual(canonicalized);
  }

  private MailAddress oneToOne(MailAddress address, Maps maps) {
    var results = lookup(address, maps);
    if (results == null) return address;
    if (results.size() > 1) log.warn("warning: {}: {}: multi-valued result, using the first: {}", maps.title(), address, results);
    return results.getFirst();
  }

  /**
   * Postfix's order: the first result takes the place of the address and is expanded further
   * at once; the others are appended, to be expanded in their turn.
   */
  private List<MailAddress> virtual(MailAddress recipient) throws ExpansionError {
    /** @param done expanded into itself: kept as it is */
    record Item(MailAddress address, Set<String> ancestors, boolean done) {}
    var argv = new ArrayList<Item>();
    argv.add(new Item(recipient, Set.of(), false));
    for (int i = 0; i < argv.size(); i++) {
      for (var item = argv.get(i); !item.done(); item = argv.get(i)) {
        if (argv.size() > expansionLimit) throw new ExpansionError("unreasonable virtual_alias_maps map expansion size for " + recipient);
        if (item.ancestors().size() >= recursionLimit) throw new ExpansionError("unreasonable virtual_alias_maps map nesting for " + recipient);
        List<MailAddress> results;
        try {
          results = lookup(item.address(), virtualAlias);
        } catch (LookupFailure e) {
          throw new ExpansionError("virtual_alias_maps map lookup problem for " + recipient + ": " + e.getMessage());
        }
        if (results == null) break;
        var self = fold(item.address());
        var ancestors = new HashSet<>(item.ancestors());
        ancestors.add(self);
        for (int r = 0; r < results.size(); r++) {
          var folded = fold(results.get(r));
          if (!folded.equals(self) && ancestors.contains(folded)) {
            throw new ExpansionError("virtual_alias_maps loop for " + recipient + ": " + item.address() + " -> " + results.get(r));
          }
          var next = new Item(results.get(r), Set.copyOf(ancestors), folded.equals(self));
          if (r == 0) argv.set(i, next);
          else argv.add(next);
        }
      }
    }
    return List.copyOf(new LinkedHashSet<>(argv.stream().map(Item::address).toList()));
  }

  /** The addresses a table maps {@code address} to, or null when it has no entry. @throws LookupFailure */
  private List<MailAddress> lookup(MailAddress address, Maps maps) {
    if (maps.isEmpty() || address.isNullSender()) return null;
    var local = localDomain.test(address.domain()) || address.domain().equals(myorigin);
    var found = maps.search(keys.address(address, local));
    if (found.isEmpty()) return null;
    var extension = found.get().key().extension();
    var results = new ArrayList<MailAddress>();
    for (var item : Maps.split(found.get().value())) {
      var result = item.startsWith("@") ? new MailAddress(address.localPart(), item.substring(1)) : qualify(MailAddress.parse(item));
      if (extension != null && !item.startsWith("@")) result = new MailAddress(result.localPart() + extension, result.domain());
      results.add(result);
    }
    return results.isEmpty() ? null : results;
  }

  private static String fold(MailAddress address) {
    return address.toString().toLowerCase(Locale.ROOT);
  }
}

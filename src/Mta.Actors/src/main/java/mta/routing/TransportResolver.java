package mta.routing;

import mta.config.MtaConfig;
import mta.config.PolicySettings;

import java.util.List;
import mta.mail.MailAddress;
import mta.maps.DomainList;
import mta.maps.KeyOrder;
import mta.maps.LookupFailure;
import mta.maps.Maps;

/**
 * trivial-rewrite's resolve step: a recipient address → its address class, its final form and
 * its {@code transport:nexthop}. See the package manual page for the rules.
 */
public final class TransportResolver {

  /** Postfix's address classes, in the order they are tried. */
  public enum AddressClass {
    /** {@code mydestination}: delivered by {@code local_transport}. */
    LOCAL,
    /** {@code virtual_alias_domains}: only aliases exist; anything left is "User unknown". */
    VIRTUAL_ALIAS,
    /** {@code virtual_mailbox_domains}: delivered by {@code virtual_transport}. */
    VIRTUAL_MAILBOX,
    /** {@code relay_domains}: relayed by {@code relay_transport}, from anyone. */
    RELAY,
    /** Everything else: {@code default_transport}, for clients allowed to relay. */
    DEFAULT;

    /** This host is the final destination (Postfix's {@code RESOLVE_CLASS_FINAL}). */
    public boolean isFinal() {
      return this == LOCAL || this == VIRTUAL_ALIAS || this == VIRTUAL_MAILBOX;
    }
  }

  /**
   * @param recipient the address after local domains and routing operators are resolved:
   *     {@code user%other@ours} is {@code user@other}
   * @param routed the local part still holds a routing operator ({@code @ % !}), so the next
   *     hop may route the mail on: relay permission never follows such an address
   */
  public record Resolution(MailAddress recipient, AddressClass addressClass, boolean routed, Route route) {}

  /**
   * What resolving reads.
   *
   * @param localTransport {@code local_transport}, e.g. {@code local:$myhostname}
   * @param relayhost {@code relayhost}: next hop for relay and default mail; "" for the domain
   */
  public record Settings(
      String myhostname,
      DomainList mydestination,
      DomainList virtualAliasDomains,
      DomainList virtualMailboxDomains,
      DomainList relayDomains,
      String relayhost,
      String localTransport,
      String virtualTransport,
      String relayTransport,
      String defaultTransport,
      Maps transportMaps,
      Maps senderDependentRelayhostMaps,
      Maps relocatedMaps,
      KeyOrder keys) {}

  private final Settings settings;

  public TransportResolver(Settings settings) {
    this.settings = settings;
  }

  /** The node's resolver, from its settings: smtpd and the queue's own submissions route alike. */
  public static TransportResolver from(MtaConfig config, PolicySettings policy) {
    var a = policy.addresses();
    return new TransportResolver(new Settings(config.myhostname(), a.mydestination(),
        a.virtualAliasDomains(), a.virtualMailboxDomains(), a.relayDomains(), config.relayhost(), a.localTransport(),
        a.virtualTransport(), a.relayTransport(), config.defaultTransport(), a.transportMaps(),
        a.senderDependentRelayhostMaps(), a.relocatedMaps(), new KeyOrder(a.recipientDelimiter())));
  }

  /** Whether a domain is one of {@code mydestination}. @throws LookupFailure */
  public boolean isLocal(String domain) {
    return settings.mydestination().matches(domain);
  }

  /** @throws LookupFailure when a domain list or table cannot answer */
  public Resolution resolve(MailAddress sender, MailAddress recipient) {
    var address = strip(recipient);
    var domain = address.domain();
    var addressClass = isLocal(domain) ? AddressClass.LOCAL
        : settings.virtualAliasDomains().matches(domain) ? AddressClass.VIRTUAL_ALIAS
        : settings.virtualMailboxDomains().matches(domain) ? AddressClass.VIRTUAL_MAILBOX
        : settings.relayDomains().matches(domain) ? AddressClass.RELAY
        : AddressClass.DEFAULT;
    var route = switch (addressClass) {
      case LOCAL -> channel(settings.localTransport(), domain);
      case VIRTUAL_ALIAS -> new Route("error", "5.1.1 User unknown in virtual alias table");
      case VIRTUAL_MAILBOX -> channel(settings.virtualTransport(), domain);
      case RELAY -> channel(settings.relayTransport(), offHost(sender, domain));
      case DEFAULT -> channel(settings.defaultTransport(), offHost(sender, domain));
    };
    if (addressClass != AddressClass.VIRTUAL_ALIAS) route = transportMaps(address, route);
    var moved = settings.relocatedMaps().search(settings.keys().address(address, addressClass == AddressClass.LOCAL));
    if (moved.isPresent()) route = new Route("error", "5.1.6 User has moved to " + moved.get().value());
    return new Resolution(address, addressClass, routed(address), route);
  }

  /**
   * Strips local domains and resolves what they leave: {@code user%site} and {@code site!user}
   * become {@code user@site}, a quoted local part is cracked open when it holds an operator,
   * and the result is looked at again (Postfix's {@code allow_percent_hack},
   * {@code swap_bangpath} and {@code resolve_dequoted_address}, all on). What remains without
   * a domain is ours: it gets the stripped domain back, or {@code myhostname}.
   */
  private MailAddress strip(MailAddress recipient) {
    var local = recipient.localPart();
    var domain = recipient.domain();
    String stripped = null;
    for (int loops = 0; loops <= local.length() + 100; loops++) {
      if (!domain.isEmpty()) {
        if (!isLocal(domain)) return new MailAddress(local, domain);
        stripped = domain;
        domain = "";
      }
      int at = lastUnquoted(local, '@');
      int bang = firstUnquoted(local, '!');
      int percent = lastUnquoted(local, '%');
      if (at >= 0) {
        domain = local.substring(at + 1);
        local = local.substring(0, at);
      } else if (bang >= 0) {
        domain = local.substring(0, bang);
        local = local.substring(bang + 1);
      } else if (percent >= 0) {
        domain = local.substring(percent + 1);
        local = local.substring(0, percent);
      } else if (local.length() > 2 && local.startsWith("\"") && local.endsWith("\"") && local.substring(1).matches("(?s).*[@%!].*")) {
        local = local.substring(1, local.length() - 1).replaceAll("\\\\(.)", "$1");
      } else {
        return new MailAddress(local, stripped != null ? stripped : settings.myhostname());
      }
      domain = MailAddress.normalizeDomain(domain);
    }
    throw new LookupFailure("resolve: <" + recipient + ">: giving up after too many iterations", null);
  }

  /** A routing operator left in the local part ({@code "a@b"@relay}, {@code a%b@relay}). */
  private static boolean routed(MailAddress address) {
    var local = address.localPart().replace("\"", "");
    return local.indexOf('@') >= 0 || local.indexOf('%') >= 0 || local.indexOf('!') >= 0;
  }

  /** Off-host mail goes to the sender's relayhost, else {@code relayhost}, else the domain. */
  private String offHost(MailAddress sender, String domain) {
    var key = sender.isNullSender() ? List.of(Maps.Key.full("<>")) : settings.keys().address(sender, false);
    var bySender = settings.senderDependentRelayhostMaps().search(key).map(Maps.Found::value)
        .filter(v -> !v.isBlank() && !v.equalsIgnoreCase("DUNNO"));
    if (bySender.isPresent()) return bySender.get();
    return settings.relayhost().isEmpty() ? domain : settings.relayhost();
  }

  /** A main.cf transport setting: {@code smtp}, or {@code smtp:[host]} whose next hop wins. */
  private static Route channel(String transport, String nexthop) {
    int colon = transport.indexOf(':');
    if (colon < 0) return new Route(transport, nexthop);
    var explicit = transport.substring(colon + 1);
    return new Route(transport.substring(0, colon), explicit.isEmpty() ? nexthop : explicit);
  }

  /**
   * transport_maps may override transport and next hop. An entry with an empty transport keeps
   * the one chosen so far; an entry without a next hop resets it to the recipient's domain
   * (transport(5): next hop syntax is the transport's own).
   */
  private Route transportMaps(MailAddress address, Route route) {
    return settings.transportMaps().search(settings.keys().transport(address)).map(found -> {
      var value = found.value().strip();
      int colon = value.indexOf(':');
      var transport = colon < 0 ? value : value.substring(0, colon);
      var nexthop = colon < 0 ? "" : value.substring(colon + 1);
      return new Route(transport.isEmpty() ? route.transport() : transport, nexthop.isEmpty() ? address.domain() : nexthop);
    }).orElse(route);
  }

  private static int lastUnquoted(String text, char c) {
    int found = -1;
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char x = text.charAt(i);
      if (quoted && x == '\\') i++;
      else if (x == '"') quoted = !quoted;
      else if (!quoted && x == c) found = i;
    }
    return found;
  }

  private static int firstUnquoted(String text, char c) {
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char x = text.charAt(i);
      if (quoted && x == '\\') i++;
      else if (x == '"') quoted = !quoted;
      else if (!quoted && x == c) return i;
    }
    return -1;
  }
}

package mta.maps;

import java.util.ArrayList;
import java.util.List;
import mta.mail.MailAddress;
import mta.maps.Maps.Key;

/**
 * The keys a lookup tries, in Postfix's evaluation orders (its {@code mail_addr_find} and
 * {@code smtpd_check.c}). The first key is the whole input ("full"); the others are partial
 * and skip pattern tables. With {@code recipient_delimiter = +}:
 *
 * <pre>
 * access maps          transport maps        virtual, canonical, relocated...
 * user+ext@sub.dom.tld user+ext@sub.dom.tld  user+ext@sub.dom.tld
 * user@sub.dom.tld     user@sub.dom.tld      user@sub.dom.tld
 * sub.dom.tld          sub.dom.tld           user+ext      (local domains only)
 * dom.tld              .dom.tld              user          (local domains only)
 * tld                  .tld                  @sub.dom.tld
 * user+ext@            *
 * user@
 * </pre>
 *
 * A key made by cutting off the extension carries it, so that a rewrite can put it back
 * (Postfix's {@code propagate_unmatched_extensions}). Quoted local parts are looked up
 * unquoted, as Postfix does. Client and HELO names try the name and its parent domains; a
 * client address tries itself and its shorter prefixes ({@code 192.0.2}, {@code 192.0}, {@code 192}).
 */
public final class KeyOrder {
  private final String delimiters;

  /** @param recipientDelimiter {@code recipient_delimiter}: any of these characters starts an extension; "" for none */
  public KeyOrder(String recipientDelimiter) {
    this.delimiters = recipientDelimiter;
  }

  /** {@code check_sender_access}, {@code check_recipient_access}. */
  public List<Key> access(MailAddress address) {
    var keys = new ArrayList<Key>();
    var local = Local.of(unquote(address.localPart()), delimiters);
    var domain = address.domain();
    keys.addAll(local.withDomain(domain));
    keys.add(Key.partial(domain));
    if (!domain.startsWith("[")) {
      for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
        keys.add(Key.partial(domain.substring(dot + 1)));
      }
    }
    keys.addAll(local.withDomain(null));
    return keys;
  }

  /** {@code transport_maps}. */
  public List<Key> transport(MailAddress address) {
    var keys = new ArrayList<Key>();
    var domain = address.domain();
    keys.addAll(Local.of(unquote(address.localPart()), delimiters).withDomain(domain));
    keys.add(Key.partial(domain));
    if (!domain.startsWith("[")) {
      for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
        keys.add(Key.partial(domain.substring(dot)));
      }
    }
    keys.add(Key.full("*"));
    return keys;
  }

  /** Address rewriting and recipient tables; {@code localDomain}: the domain is one of ours. */
  public List<Key> address(MailAddress address, boolean localDomain) {
    var keys = new ArrayList<Key>();
    var local = Local.of(unquote(address.localPart()), delimiters);
    keys.addAll(local.withDomain(address.domain()));
    if (localDomain) {
      for (var key : local.withDomain(null)) {
        keys.add(new Key(key.text().substring(0, key.text().length() - 1), true, key.extension()));
      }
    }
    keys.add(Key.partial("@" + address.domain()));
    return keys;
  }

  /** {@code check_helo_access}: the name, then its parent domains; an address literal only as it is. */
  public static List<Key> domain(String name) {
    var keys = new ArrayList<Key>();
    var domain = MailAddress.normalizeDomain(name);
    keys.add(Key.full(domain));
    if (!domain.startsWith("[") && Cidr.address(domain) == null) {
      for (int dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
        keys.add(Key.partial(domain.substring(dot + 1)));
      }
    }
    return keys;
  }

  /** {@code check_client_access}: host name and parents, then the address and its prefixes. */
  public static List<Key> client(String hostname, String address) {
    var keys = new ArrayList<>(domain(hostname));
    char separator = address.indexOf(':') >= 0 ? ':' : '.';
    keys.add(Key.full(address));
    for (int cut = address.lastIndexOf(separator); cut > 0; cut = address.lastIndexOf(separator, cut - 1)) {
      keys.add(Key.partial(address.substring(0, cut)));
    }
    return keys;
  }

  /** A local part split at its extension: {@code user}, {@code +ext} (or null). */
  private record Local(String user, String extension) {
    static Local of(String local, String delimiters) {
      for (int i = 1; i < local.length(); i++) {
        if (delimiters.indexOf(local.charAt(i)) >= 0) return new Local(local.substring(0, i), local.substring(i));
      }
      return new Local(local, null);
    }

    /** {@code user+ext@domain} then {@code user@domain}; with a null domain, {@code user+ext@} and {@code user@}. */
    List<Key> withDomain(String domain) {
      var at = "@" + (domain == null ? "" : domain);
      boolean first = domain != null;
      if (extension == null) return List.of(new Key(user + at, !first, null));
      return List.of(new Key(user + extension + at, !first, null), new Key(user + at, true, extension));
    }
  }

  /** {@code "john doe"} as Postfix's internal form {@code john doe}. */
  public static String unquote(String local) {
    if (local.indexOf('"') < 0) return local;
    var out = new StringBuilder();
    for (int i = 0; i < local.length(); i++) {
      char c = local.charAt(i);
      if (c == '\\' && i + 1 < local.length()) out.append(local.charAt(++i));
      else if (c != '"') out.append(c);
    }
    return out.toString();
  }
}

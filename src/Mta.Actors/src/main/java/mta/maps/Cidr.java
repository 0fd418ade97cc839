package mta.maps;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * One network in Postfix's notation, as in {@code mynetworks} and {@code cidr:} tables:
 * {@code 127.0.0.0/8}, {@code [::1]/128}, or a single host {@code 10.1.2.3}. IPv4 and IPv6
 * never match each other.
 */
public record Cidr(InetAddress network, int prefixLength) {

  public Cidr {
    int bits = network.getAddress().length * 8;
    if (prefixLength < 0 || prefixLength > bits) {
      throw new IllegalArgumentException("bad prefix length /" + prefixLength + " for " + network.getHostAddress());
    }
  }

  /**
   * Parses without any DNS lookup: mynetworks is a list of addresses, and a host name here
   * would make relay permission depend on someone else's DNS.
   */
  public static Cidr parse(String text) {
    var spec = text.strip();
    int slash = spec.indexOf('/');
    var host = slash < 0 ? spec : spec.substring(0, slash);
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    var network = address(host);
    if (network == null) throw new IllegalArgumentException("not an IP network: " + text);
    int prefix;
    try {
      prefix = slash < 0 ? network.getAddress().length * 8 : Integer.parseInt(spec.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad prefix length in " + text, e);
    }
    var cidr = new Cidr(network, prefix);
    // Postfix refuses 10.1.2.3/8 too: the administrator most likely meant something else.
    if (!cidr.hostBitsZero()) {
      throw new IllegalArgumentException("non-null host address bits in " + text);
    }
    return cidr;
  }

  /** An IP address literal ({@code 192.0.2.1}, {@code ::1}, no brackets), or null: never a DNS lookup. */
  public static InetAddress address(String literal) {
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(literal);
    if (bytes == null) return null;
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  public boolean matches(InetAddress address) {
    byte[] a = address.getAddress();
    byte[] n = network.getAddress();
    if (a.length != n.length) return false;
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != n[i]) return false;
    }
    int rest = prefixLength % 8;
    if (rest == 0) return true;
    int mask = 0xff << (8 - rest);
    return (a[full] & mask) == (n[full] & mask);
  }

  private boolean hostBitsZero() {
    byte[] n = network.getAddress();
    for (int bit = prefixLength; bit < n.length * 8; bit++) {
      if ((n[bit / 8] & (0x80 >>> (bit % 8))) != 0) return false;
    }
    return true;
  }

  @Override
  public String toString() {
    var host = network.getHostAddress();
    return (network.getAddress().length == 16 ? "[" + host + "]" : host) + "/" + prefixLength;
  }
}

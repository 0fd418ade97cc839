package mta.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Test
  void ipv4Network() {
    var loopback = Cidr.parse("127.0.0.0/8");
    assertTrue(loopback.matches(ip("127.0.0.1")));
    assertTrue(loopback.matches(ip("127.255.255.255")));
    assertFalse(loopback.matches(ip("128.0.0.1")));
    assertFalse(loopback.matches(ip("::1")));
  }

  @Test
  void prefixNotOnAByteBoundary() {
    var net = Cidr.parse("192.168.0.0/20");
    assertTrue(net.matches(ip("192.168.15.255")));
    assertFalse(net.matches(ip("192.168.16.0")));
  }

  @Test
  void singleHost() {
    var host = Cidr.parse("10.1.2.3");
    assertEquals(32, host.prefixLength());
    assertTrue(host.matches(ip("10.1.2.3")));
    assertFalse(host.matches(ip("10.1.2.4")));
  }

  @Test
  void ipv6InPostfixBrackets() {
    var loopback = Cidr.parse("[::1]/128");
    assertTrue(loopback.matches(ip("::1")));
    assertFalse(loopback.matches(ip("::2")));
    assertFalse(loopback.matches(ip("127.0.0.1")));
    var doc = Cidr.parse("[2001:db8::]/32");
    assertTrue(doc.matches(ip("2001:db8:1234::5")));
    assertFalse(doc.matches(ip("2001:db9::5")));
    assertEquals(Cidr.parse("[2001:db8::]/32"), Cidr.parse("2001:db8::/32"));
    assertEquals(Cidr.parse("[fe80::]/10"), Cidr.parse("[fe80::]/10"));
  }

  @Test
  void zeroPrefixMatchesTheWholeFamily() {
    var all = Cidr.parse("0.0.0.0/0");
    assertTrue(all.matches(ip("203.0.113.9")));
    assertFalse(all.matches(ip("2001:db8::1")));
  }

  @Test
  void printsInPostfixNotation() {
    assertEquals("127.0.0.0/8", Cidr.parse(" 127.0.0.0/8 ").toString());
    assertEquals("[0:0:0:0:0:0:0:1]/128", Cidr.parse("[::1]/128").toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"localhost", "mail.example.com", "300.1.1.1", "10.0.0.0/33", "10.0.0.0/x", "10.0.0.0/",
      "[::1]/129", "10.1.2.3/8", "[2001:db8::1]/32", "10.0.0", "", "/8", "10.0.0.0/-1"})
  void rejectsWhatIsNotANetwork(String text) {
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
  }
}

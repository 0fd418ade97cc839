package mta.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import mta.mail.MailAddress;
import org.junit.jupiter.api.Test;

/** The evaluation orders of the seed documents, key by key. */
class KeyOrderTest {
  private static final KeyOrder PLUS = new KeyOrder("+");

  private static List<String> texts(List<Maps.Key> keys) {
    return keys.stream().map(k -> (k.partial() ? "~" : "") + k.text()).toList();
  }

  @Test
  void accessMaps() {
    assertEquals(List.of("user+ext@sub.domain.tld", "~user@sub.domain.tld", "~sub.domain.tld", "~domain.tld", "~tld",
            "~user+ext@", "~user@"),
        texts(PLUS.access(new MailAddress("user+ext", "sub.domain.tld"))));
    assertEquals(List.of("user@domain.tld", "~domain.tld", "~tld", "~user@"),
        texts(PLUS.access(new MailAddress("user", "domain.tld"))));
  }

  @Test
  void virtualAndCanonicalMaps() {
    assertEquals(List.of("user+ext@sub.domain.tld", "~user@sub.domain.tld", "~user+ext", "~user", "~@sub.domain.tld"),
        texts(PLUS.address(new MailAddress("user+ext", "sub.domain.tld"), true)));
    // The bare local part is tried only for our own domains.
    assertEquals(List.of("user+ext@sub.domain.tld", "~user@sub.domain.tld", "~@sub.domain.tld"),
        texts(PLUS.address(new MailAddress("user+ext", "sub.domain.tld"), false)));
  }

  @Test
  void transportMaps() {
    assertEquals(List.of("user+ext@sub.domain.tld", "~user@sub.domain.tld", "~sub.domain.tld", "~.domain.tld", "~.tld", "*"),
        texts(PLUS.transport(new MailAddress("user+ext", "sub.domain.tld"))));
  }

  @Test
  void extensionIsRememberedForPropagation() {
    var keys = PLUS.address(new MailAddress("user+ext", "example.com"), false);
    assertEquals("+ext", keys.get(1).extension());
    assertEquals(null, keys.get(0).extension());
  }

  @Test
  void noDelimiterNoExtension() {
    assertEquals(List.of("user+ext@example.com", "~example.com", "~com", "~user+ext@"),
        texts(new KeyOrder("").access(new MailAddress("user+ext", "example.com"))));
    // A leading delimiter is not an extension.
    assertEquals(List.of("+x@example.com", "~example.com", "~com", "~+x@"),
        texts(PLUS.access(new MailAddress("+x", "example.com"))));
  }

  @Test
  void quotedLocalPartsAreLookedUpUnquoted() {
    assertEquals("john doe@example.com", PLUS.access(new MailAddress("\"john doe\"", "example.com")).getFirst().text());
  }

  @Test
  void clientNamesAndAddresses() {
    assertEquals(List.of("mail.example.com", "~example.com", "~com", "192.0.2.1", "~192.0.2", "~192.0", "~192"),
        texts(KeyOrder.client("mail.example.com", "192.0.2.1")));
    assertEquals(List.of("unknown", "2001:db8::1", "~2001:db8:", "~2001:db8", "~2001"),
        texts(KeyOrder.client("unknown", "2001:db8::1")));
  }

  @Test
  void heloNamesAndLiterals() {
    assertEquals(List.of("a.example.com", "~example.com", "~com"), texts(KeyOrder.domain("A.Example.COM.")));
    assertEquals(List.of("[192.0.2.1]"), texts(KeyOrder.domain("[192.0.2.1]")));
    assertEquals(List.of("192.0.2.1"), texts(KeyOrder.domain("192.0.2.1")));
  }
}

package mta.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import mta.mail.MailAddress;
import mta.maps.DomainList;
import mta.maps.KeyOrder;
import mta.maps.LookupFailure;
import mta.maps.Maps;
import mta.routing.TransportResolver.AddressClass;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TransportResolverTest {
  private static final MailAddress SENDER = MailAddress.parse("sender@client.example");

  @TempDir
  Path dir;

  private static TransportResolver resolver(String relayhost, Maps transport, Maps senderRelay, Maps relocated) {
    return new TransportResolver(new TransportResolver.Settings(
        "mx.example.net",
        DomainList.of(List.of("mx.example.net", "example.net"), false),
        DomainList.of(List.of("alias.example"), false),
        DomainList.of(List.of("mailbox.example"), false),
        DomainList.of(List.of("relay.example"), true),
        relayhost, "local:mx.example.net", "virtual", "relay", "smtp",
        transport, senderRelay, relocated, new KeyOrder("+")));
  }

  private static final TransportResolver PLAIN = resolver("", Maps.NONE, Maps.NONE, Maps.NONE);

  private static TransportResolver.Resolution resolve(TransportResolver resolver, String address) {
    return resolver.resolve(SENDER, MailAddress.parse(address));
  }

  @ParameterizedTest(name = "{0} is {1} via {2}")
  @CsvSource(delimiter = '|', textBlock = """
      user@example.net          | LOCAL           | local:mx.example.net
      user@alias.example        | VIRTUAL_ALIAS   | error:5.1.1 User unknown in virtual alias table
      user@mailbox.example      | VIRTUAL_MAILBOX | virtual:mailbox.example
      user@relay.example        | RELAY           | relay:relay.example
      user@mx.relay.example     | RELAY           | relay:mx.relay.example
      user@elsewhere.example    | DEFAULT         | smtp:elsewhere.example
      user%elsewhere.example@example.net | DEFAULT | smtp:elsewhere.example
      elsewhere.example!user@example.net | DEFAULT | smtp:elsewhere.example
      user%example.net@example.net       | LOCAL   | local:mx.example.net
      postmaster                | LOCAL           | local:mx.example.net
      """)
  void addressClasses(String address, AddressClass expected, String route) {
    var r = resolve(PLAIN, address);
    assertEquals(expected, r.addressClass());
    assertEquals(route, r.route().toString());
  }

  @Test
  void localDomainsAndOperatorsAreResolvedAway() {
    assertEquals(MailAddress.parse("user@elsewhere.example"), resolve(PLAIN, "user%elsewhere.example@example.net").recipient());
    assertEquals(MailAddress.parse("user@elsewhere.example"), resolve(PLAIN, "elsewhere.example!user@example.net").recipient());
    assertEquals(MailAddress.parse("user@elsewhere.example"), resolve(PLAIN, "\"user@elsewhere.example\"@example.net").recipient());
    assertEquals(MailAddress.parse("postmaster@mx.example.net"), resolve(PLAIN, "postmaster").recipient());
    assertFalse(resolve(PLAIN, "user%elsewhere.example@example.net").routed());
  }

  @Test
  void operatorsLeftInARemoteAddressAreRouted() {
    assertTrue(resolve(PLAIN, "user%elsewhere.example@relay.example").routed());
    assertTrue(resolve(PLAIN, "\"user@elsewhere.example\"@relay.example").routed());
    assertTrue(resolve(PLAIN, "elsewhere!user@relay.example").routed());
    assertFalse(resolve(PLAIN, "user@relay.example").routed());
  }

  @Test
  void relayhostForOffHostMailOnly() {
    var r = resolver("[192.0.2.25]:2525", Maps.NONE, Maps.NONE, Maps.NONE);
    assertEquals("smtp:[192.0.2.25]:2525", resolve(r, "user@elsewhere.example").route().toString());
    assertEquals("relay:[192.0.2.25]:2525", resolve(r, "user@relay.example").route().toString());
    assertEquals("local:mx.example.net", resolve(r, "user@example.net").route().toString());
  }

  @Test
  void transportMapsInTheirEvaluationOrder() throws IOException {
    var file = dir.resolve("transport");
    Files.writeString(file, """
        special+fast@elsewhere.example   smtp:[192.0.2.1]
        special@elsewhere.example        smtp:[192.0.2.2]
        elsewhere.example                smtp:[192.0.2.3]
        .sub.example                     relay:[192.0.2.4]
        nexthop-only.example             :[192.0.2.5]
        transport-only.example           lmtp:
        blocked.example                  error:5.7.1 mail for blocked.example is not accepted
        *                                smtp:[192.0.2.9]
        """);
    var r = resolver("", Maps.open("transport_maps", List.of("texthash:" + file)), Maps.NONE, Maps.NONE);
    assertEquals("smtp:[192.0.2.1]", resolve(r, "special+fast@elsewhere.example").route().toString());
    assertEquals("smtp:[192.0.2.2]", resolve(r, "special+slow@elsewhere.example").route().toString());
    assertEquals("smtp:[192.0.2.3]", resolve(r, "anyone@elsewhere.example").route().toString());
    assertEquals("relay:[192.0.2.4]", resolve(r, "a@deep.sub.example").route().toString());
    assertEquals("smtp:[192.0.2.9]", resolve(r, "a@sub.example").route().toString(), "the .parent form is for subdomains only");
    assertEquals("smtp:[192.0.2.5]", resolve(r, "a@nexthop-only.example").route().toString());
    assertEquals("lmtp:transport-only.example", resolve(r, "a@transport-only.example").route().toString());
    assertEquals("error:5.7.1 mail for blocked.example is not accepted", resolve(r, "a@blocked.example").route().toString());
    assertEquals("smtp:[192.0.2.9]", resolve(r, "a@other.example").route().toString());
    // Virtual alias domains are never routed by transport_maps: their addresses must be aliases.
    assertEquals("error", resolve(r, "a@alias.example").route().transport());
  }

  @Test
  void discardTransport() {
    var r = resolver("", Maps.open("transport_maps", List.of("inline:{ { spamtrap.example = discard:silently } }")), Maps.NONE, Maps.NONE);
    assertEquals("discard:silently", resolve(r, "x@spamtrap.example").route().toString());
  }

  @Test
  void senderDependentRelayhost() {
    var bySender = Maps.open("sender_dependent_relayhost_maps",
        List.of("inline:{ sender@client.example=[192.0.2.7]:587, @bulk.example=DUNNO }"));
    var r = resolver("[192.0.2.25]", Maps.NONE, bySender, Maps.NONE);
    assertEquals("smtp:[192.0.2.7]:587", r.resolve(SENDER, MailAddress.parse("a@elsewhere.example")).route().toString());
    assertEquals("smtp:[192.0.2.25]", r.resolve(MailAddress.parse("x@bulk.example"), MailAddress.parse("a@elsewhere.example")).route().toString());
    assertEquals("local:mx.example.net", r.resolve(SENDER, MailAddress.parse("a@example.net")).route().toString());
  }

  @Test
  void relocatedUsers() {
    var relocated = Maps.open("relocated_maps", List.of("inline:{ old@example.net=new@other.example }"));
    var r = resolver("", Maps.NONE, Maps.NONE, relocated);
    assertEquals("error:5.1.6 User has moved to new@other.example", resolve(r, "old+tag@example.net").route().toString());
    assertEquals("local:mx.example.net", resolve(r, "young@example.net").route().toString());
  }

  @Test
  void tableFailuresAreNotMisses() throws IOException {
    int closed;
    try (var s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    var cf = dir.resolve("down.cf");
    Files.writeString(cf, "jdbc_url = jdbc:postgresql://127.0.0.1:" + closed + "/test\ntimeout = 1\nquery = SELECT '%s'\n");
    var r = resolver("", Maps.open("transport_maps", List.of("sql:" + cf)), Maps.NONE, Maps.NONE);
    assertThrows(LookupFailure.class, () -> resolve(r, "a@elsewhere.example"));
  }
}

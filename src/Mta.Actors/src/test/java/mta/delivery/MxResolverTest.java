package mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mta.LogCapture;
import mta.config.HostPort;
import mta.delivery.MxResolver.Bounce;
import mta.delivery.MxResolver.Defer;
import mta.delivery.MxResolver.Hosts;
import mta.delivery.MxResolver.MxHost;
import mta.delivery.MxResolver.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** MX lookups against a real dnsmasq on a loopback port. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MxResolverTest {
  private static final String MYHOSTNAME = "mx.self.test";
  private static final InetAddress ME = address("127.0.0.99");
  private static final Duration TIMEOUT = Duration.ofMillis(300);

  private static Dnsmasq refusing;
  private static Dnsmasq dns;
  private static MxResolver resolver;
  @RegisterExtension final LogCapture logged = new LogCapture("smtp");

  @BeforeAll
  static void startDns() throws Exception {
    refusing = Dnsmasq.start("refused.test");
    dns = Dnsmasq.start("ex.test",
        "--local-ttl=300",
        "--local=/test/",
        "--mx-host=ex.test,mx1.ex.test,10", "--mx-host=ex.test,mx2.ex.test,20",
        "--host-record=mx1.ex.test,127.0.0.11", "--host-record=mx2.ex.test,127.0.0.12,::1",
        "--mx-host=eq.test,a.eq.test,10", "--mx-host=eq.test,b.eq.test,10",
        "--host-record=a.eq.test,127.0.0.13", "--host-record=b.eq.test,127.0.0.14",
        "--host-record=nodata.test,127.0.0.20",
        "--dns-rr=nullmx.test,15,000000",
        "--server=/refused.test/127.0.0.1#" + refusing.port(),
        "--server=/dead.test/127.0.0.1#" + Dnsmasq.freePort(),
        "--host-record=me.test,127.0.0.99",
        "--mx-host=loop.test,me.test,10",
        "--mx-host=backup.test,primary.test,10", "--mx-host=backup.test,me.test,20", "--mx-host=backup.test,other.test,30",
        "--host-record=primary.test,127.0.0.31", "--host-record=other.test,127.0.0.32",
        "--mx-host=named.test,mx.self.test,10", "--host-record=mx.self.test,127.0.0.40",
        "--mx-host=norelay.test,ghost.test,10", "--mx-host=norelay.test,me.test,20",
        "--mx-host=dangling.test,ghost.test,10",
        "--mx-host=softmx.test,mx.refused.test,10", "--mx-host=softmx.test,ghost.test,20",
        "--host-record=selfa.test,127.0.0.99");
    resolver = resolverAt(dns.port());
  }

  @AfterAll
  static void stopDns() {
    if (dns != null) dns.close();
    if (refusing != null) refusing.close();
  }

  private static MxResolver resolverAt(int port) {
    return new MxResolver(List.of(new HostPort("127.0.0.1", port)), TIMEOUT, MYHOSTNAME, Set.of(ME));
  }

  private static Result resolve(MxResolver r, String domain) {
    return r.resolve(domain).toCompletableFuture().join();
  }

  private static Result resolve(String domain) {
    return resolve(resolver, domain);
  }

  @Test
  void exchangersComeInPreferenceOrderWithTheirAddresses() {
    assertEquals(new Hosts(List.of(
            new MxHost("mx1.ex.test", 10, List.of(address("127.0.0.11"))),
            new MxHost("mx2.ex.test", 20, List.of(address("127.0.0.12"), address("::1"))))),
        resolve("ex.test"));
  }

  @Test
  void theDomainIsNormalisedFirst() {
    assertEquals(resolve("ex.test"), resolve("EX.Test."));
  }

  @Test
  void equalPreferencesAreShuffledOnEveryCall() {
    var orders = new HashSet<List<String>>();
    for (int i = 0; i < 60; i++) {
      var hosts = assertInstanceOf(Hosts.class, resolve("eq.test")).hosts();
      orders.add(hosts.stream().map(MxHost::name).toList());
    }
    assertEquals(Set.of(List.of("a.eq.test", "b.eq.test"), List.of("b.eq.test", "a.eq.test")), orders);
  }

  @Test
  void aDomainWithoutMxRecordsIsItsOwnExchanger() {
    assertEquals(new Hosts(List.of(new MxHost("nodata.test", 0, List.of(address("127.0.0.20"))))), resolve("nodata.test"));
  }

  @Test
  void aDomainThatDoesNotExistBounces() {
    assertEquals(new Bounce("5.4.4", "Host or domain name not found. Name service error for name=nx.test type=MX: Host not found"),
        resolve("nx.test"));
  }

  @Test
  void aNullMxBounces() {
    assertEquals(new Bounce("5.1.0", "Domain nullmx.test does not accept mail (nullMX)"), resolve("nullmx.test"));
  }

  @Test
  void aRefusedQueryDefers() {
    assertEquals(new Defer("4.4.3", "Host or domain name not found. Name service error for name=x.refused.test type=MX: Host not found, try again"),
        resolve("x.refused.test"));
  }

  @Test
  void aTimeoutDefersWithinTheConfiguredTime() {
    long start = System.nanoTime();
    assertEquals(new Defer("4.4.3", "Host or domain name not found. Name service error for name=x.dead.test type=MX: Host not found, try again"),
        resolve("x.dead.test"));
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 5_000, "took " + millis + " ms");
  }

  @Test
  void noNameServerAtAllDefers() throws Exception {
    var nobody = resolverAt(Dnsmasq.freePort());
    assertInstanceOf(Defer.class, resolve(nobody, "ex.test"));
  }

  @Test
  void mailForADomainWhosePrimaryIsThisHostLoops() {
    assertEquals(new Bounce("5.4.6", "mail for loop.test loops back to myself"), resolve("loop.test"));
  }

  @Test
  void anExchangerNamedMyhostnameIsThisHost() {
    assertEquals(new Bounce("5.4.6", "mail for named.test loops back to myself"), resolve("named.test"));
    assertEquals(List.of("named.test: skipping MX host mx.self.test[127.0.0.40] preference 10: it is this host (myhostname mx.self.test)"),
        logged.lines());
  }

  @Test
  void asABackupExchangerOnlyBetterExchangersAreTried() {
    assertEquals(new Hosts(List.of(new MxHost("primary.test", 10, List.of(address("127.0.0.31"))))), resolve("backup.test"));
    assertEquals(List.of(
            "backup.test: skipping MX host me.test[127.0.0.99] preference 20: its address 127.0.0.99 is one of this host's",
            "backup.test: skipping MX host other.test[127.0.0.32] preference 30: preference not better than this host's (20)"),
        logged.lines(), "one line per exchanger skipped");
  }

  @Test
  void asABackupExchangerWhoseBetterExchangersDoNotResolveWeDefer() {
    assertEquals(new Defer("4.4.4", "unable to find primary relay for norelay.test"), resolve("norelay.test"));
  }

  @Test
  void exchangersWithoutAddressesBounce() {
    assertEquals(new Bounce("5.4.4", "Host or domain name not found. Name service error for name=ghost.test type=A: Host not found"),
        resolve("dangling.test"));
  }

  @Test
  void aSoftFailureOfAnExchangerDominatesHardOnes() {
    assertEquals(new Defer("4.4.3", "Host or domain name not found. Name service error for name=mx.refused.test type=A: Host not found, try again"),
        resolve("softmx.test"));
  }

  @Test
  void aDomainWithoutMxWhoseAddressIsOursLoops() {
    assertEquals(new Bounce("5.4.6", "mail for selfa.test loops back to myself"), resolve("selfa.test"));
  }

  @Test
  void aMalformedDomainBounces() {
    assertEquals("5.4.4", assertInstanceOf(Bounce.class, resolve("a..b")).dsn());
  }

  @Test
  void answersAreCachedForTheirTtlOnly() throws Exception {
    Result first;
    MxResolver cached;
    try (var shortLived = Dnsmasq.start("ttl.test", "--local-ttl=1", "--local=/test/",
        "--mx-host=ttl.test,mx.ttl.test,5", "--host-record=mx.ttl.test,127.0.0.50")) {
      cached = resolverAt(shortLived.port());
      first = resolve(cached, "ttl.test");
      assertEquals(new Hosts(List.of(new MxHost("mx.ttl.test", 5, List.of(address("127.0.0.50"))))), first);
    }
    // The server is gone: the cache answers until the TTL runs out, then the lookup defers.
    assertEquals(first, resolve(cached, "ttl.test"));
    Thread.sleep(2_200);
    assertInstanceOf(Defer.class, resolve(cached, "ttl.test"));
  }

  @Test
  void interfaceAddressesIncludeLoopback() {
    assertTrue(MxResolver.interfaceAddresses().contains(address("127.0.0.1")));
  }

  private static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (IOException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }

  /** A dnsmasq process on a free loopback port, answering from its command line only. */
  record Dnsmasq(Process process, int port, Path log) implements AutoCloseable {

    /** Starts dnsmasq and waits until it answers a query for {@code probe}. */
    static Dnsmasq start(String probe, String... records) throws IOException, InterruptedException {
      var log = Files.createTempFile("dnsmasq", ".log");
      for (int attempt = 0; ; attempt++) {
        int port = freePort();
        var command = new ArrayList<>(List.of("dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--log-facility=" + log));
        command.addAll(List.of(records));
        var process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        var server = new Dnsmasq(process, port, log);
        if (server.answers(probe)) return server;
        server.close();
        if (attempt == 2) throw new IOException("dnsmasq did not start: " + Files.readString(log));
      }
    }

    private boolean answers(String probe) throws IOException, InterruptedException {
      var client = new SimpleResolver(new InetSocketAddress("127.0.0.1", port));
      client.setTimeout(Duration.ofMillis(200));
      var query = Message.newQuery(Record.newRecord(Name.fromString(probe + "."), Type.MX, DClass.IN));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < deadline && process.isAlive()) {
        try {
          client.send(query);
          return true;
        } catch (IOException notYet) {
          Thread.sleep(50);
        }
      }
      return false;
    }

    static int freePort() throws IOException {
      try (var socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
        return socket.getLocalPort();
      }
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        Files.deleteIfExists(log);
      } catch (InterruptedException | IOException e) {
        process.destroyForcibly();
      }
    }
  }
}

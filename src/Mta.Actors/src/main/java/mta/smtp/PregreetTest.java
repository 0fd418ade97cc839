package mta.smtp;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mta.maps.Cidr;

/**
 * Postscreen's pregreet test, for all sessions of a node: a client outside {@code mynetworks}
 * that this node has not seen pass lately gets its greeting only after
 * {@code postscreen_greet_wait} of silence. A client that speaks first (spambots often do, to
 * save time) is refused with {@code 521 5.5.1 Protocol error} and logged as {@code PREGREET}.
 * A client that waited is remembered for {@code postscreen_greet_ttl}, so it is delayed once,
 * not on every connection; talking before the greeting is refused at any time.
 *
 * <p>Unlike postscreen we send no {@code 220-} teaser during the wait: a refusal decided while
 * we wait (a connection limit's 421, a client restriction's 554) could not follow it in a
 * well-formed reply. Like postscreen's default {@code postscreen_access_list =
 * permit_mynetworks}, clients in {@code mynetworks} are not tested.
 */
final class PregreetTest {
  /** Clients remembered as passed, at most; the oldest are forgotten first. */
  private static final int MAX_REMEMBERED = 100_000;

  private final Duration greetWait;
  private final long ttlMillis;
  private final List<Cidr> mynetworks;
  private final Map<InetAddress, Long> passedUntil = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<InetAddress, Long> eldest) {
      return size() > MAX_REMEMBERED;
    }
  };

  /** @param greetWait 0 turns the test off */
  PregreetTest(Duration greetWait, Duration ttl, List<String> mynetworks) {
    this.greetWait = greetWait;
    this.ttlMillis = ttl.toMillis();
    this.mynetworks = mynetworks.stream().map(Cidr::parse).toList();
  }

  /** Whether talk before the greeting is refused for this client. */
  boolean applies(InetAddress client) {
    return !greetWait.isZero() && mynetworks.stream().noneMatch(n -> n.matches(client));
  }

  /** How long to hold the greeting back: zero for a client that passed within the TTL. */
  synchronized Duration waitFor(InetAddress client, long now) {
    if (!applies(client)) return Duration.ZERO;
    var until = passedUntil.get(client);
    return until != null && until > now ? Duration.ZERO : greetWait;
  }

  /** The client waited for its greeting. */
  synchronized void passed(InetAddress client, long now) {
    if (applies(client)) passedUntil.put(client, now + ttlMillis);
  }
}

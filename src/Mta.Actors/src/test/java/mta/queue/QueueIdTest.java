package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Optional;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;

class QueueIdTest {
  @Test
  void idsAreUniqueAndSortByArrival() {
    var seen = new HashSet<String>();
    String previous = "";
    for (int i = 0; i < 100_000; i++) {
      var id = QueueId.next("Kq7");
      assertTrue(seen.add(id), "repeated id " + id);
      var clock = id.substring(0, id.indexOf('z'));
      assertTrue(clock.length() > previous.length() || (clock.length() == previous.length() && clock.compareTo(previous) > 0));
      previous = clock;
      assertTrue(id.matches("[0-9A-Za-y]+z[0-9A-Za-y]+zKq7"), id);
    }
    assertEquals(100_000, seen.size());
  }

  @Test
  void anIdNamesItsHomeIdsFromBeforeHomesHaveNone() {
    assertEquals(Optional.of("Kq7"), QueueId.homeOf(QueueId.next("Kq7")));
    assertEquals(Optional.empty(), QueueId.homeOf("4Xk9mBC2dKz3hGtq8V"), "clock z random: made before homes");
    assertEquals(Optional.empty(), QueueId.homeOf("ABC123"));
    assertTrue(QueueId.isHomedAt(QueueId.next("Kq7"), "Kq7"));
    assertFalse(QueueId.isHomedAt(QueueId.next("Kq7"), "Kq"), "a prefix of the home is not the home");
    assertFalse(QueueId.isHomedAt(QueueId.next("Kq7"), "Kq78"));
    assertFalse(QueueId.isHomedAt("4Xk9mBC2dKz3hGtq8V", "3hGtq8V"), "made before homes");
    assertFalse(QueueId.isHomedAt("ABC123", "ABC123"));
  }

  @Test
  void aNodesTagComesFromItsAddressAndStaysTheSameAcrossRestarts() {
    var node0 = new Address("pekko", "mta", "mta-0.mta.mail.svc", 25520);
    var tag = QueueId.homeTag(node0);
    assertTrue(tag.matches("[0-9A-Za-y]{3}"), tag);
    assertEquals(tag, QueueId.homeTag(new Address("pekko", "mta", "mta-0.mta.mail.svc", 25520)));
    assertNotEquals(tag, QueueId.homeTag(new Address("pekko", "mta", "mta-1.mta.mail.svc", 25520)));
    assertNotEquals(QueueId.homeTag(new Address("pekko", "mta", "127.0.0.1", 25520)),
        QueueId.homeTag(new Address("pekko", "mta", "127.0.0.1", 25521)));
  }
}

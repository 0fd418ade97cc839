package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import org.junit.jupiter.api.Test;

class QueueIdTest {
  @Test
  void idsAreUniqueAndSortByArrival() {
    var seen = new HashSet<String>();
    String previous = "";
    for (int i = 0; i < 100_000; i++) {
      var id = QueueId.next();
      assertTrue(seen.add(id), "repeated id " + id);
      var clock = id.substring(0, id.indexOf('z'));
      assertTrue(clock.length() > previous.length() || (clock.length() == previous.length() && clock.compareTo(previous) > 0));
      previous = clock;
      assertTrue(id.matches("[0-9A-Za-y]+z[0-9A-Za-y]+"), id);
    }
    assertEquals(100_000, seen.size());
  }
}

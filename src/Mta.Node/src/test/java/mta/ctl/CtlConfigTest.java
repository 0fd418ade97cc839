package mta.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import mta.management.ConfigEntry;
import org.junit.jupiter.api.Test;

class CtlConfigTest {
  @Test
  void postconfWritesNameEqualsValueAndTheOrigin() {
    assertEquals("""
        mynetworks = 10.0.0.0/8, 127.0.0.0/8  # /etc/mta/node.conf:3
        relayhost =   # reference.conf:13
        """, CtlConfig.postconf(List.of(
        new ConfigEntry("mynetworks", "10.0.0.0/8, 127.0.0.0/8", "/etc/mta/node.conf:3", false),
        new ConfigEntry("relayhost", "", "reference.conf:13", true))));
  }
}

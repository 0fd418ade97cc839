package mta.management;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccessTest {
  static final Optional<String> NONE = Optional.empty();
  static final Optional<String> RIGHT = Optional.of("Bearer s3cret");

  @Test
  void withoutATokenOnLoopbackEverythingIsOpen() {
    var open = new Access(Optional.empty(), true);
    assertTrue(open.permits("POST", "/queue/ALL/delete", NONE));
    assertTrue(open.permits("GET", "/queue", NONE));
  }

  @Test
  void onLoopbackReadingIsOpenAndChangingNeedsTheToken() {
    var access = new Access(Optional.of("s3cret"), true);
    assertTrue(access.permits("GET", "/queue", NONE));
    assertTrue(access.permits("HEAD", "/metrics", NONE));
    assertFalse(access.permits("POST", "/queue/ALL/hold", NONE));
    assertFalse(access.permits("PUT", "/cluster/members/x", Optional.of("Bearer wrong")));
    assertFalse(access.permits("DELETE", "/cluster/members/x", Optional.of("Basic czNjcmV0")));
    assertTrue(access.permits("POST", "/queue/ALL/hold", RIGHT));
    assertTrue(access.permits("POST", "/queue/ALL/hold", Optional.of("bearer s3cret ")), "the scheme is case-insensitive");
  }

  @Test
  void offLoopbackEveryCallButTheHealthChecksNeedsTheToken() {
    var access = new Access(Optional.of("s3cret"), false);
    assertFalse(access.permits("GET", "/queue", NONE));
    assertFalse(access.permits("GET", "/metrics", NONE));
    assertTrue(access.permits("GET", "/metrics", RIGHT));
    assertTrue(access.permits("GET", "/ready", NONE));
    assertTrue(access.permits("GET", "/alive", NONE));
  }

  @Test
  void offLoopbackClusterBootstrapProbesWithoutTheTokenButOnlyToRead() {
    var access = new Access(Optional.of("s3cret"), false);
    assertTrue(access.permits("GET", "/bootstrap/seed-nodes", NONE));
    assertFalse(access.permits("POST", "/bootstrap/seed-nodes", NONE));
    assertFalse(access.permits("GET", "/cluster/members", NONE));
  }
}

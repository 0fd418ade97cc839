package mta.management;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.Set;

/**
 * Who may call what on the management endpoint. With a token set, a call that changes
 * something needs it ({@code Authorization: Bearer TOKEN}), and so does every call when the
 * endpoint listens on an address that is not loopback, but for the health checks that probes
 * ask ({@code /ready}, {@code /alive}). Without a token (loopback only: the configuration
 * refuses anything else) every call is open.
 */
record Access(Optional<String> token, boolean loopback) {
  static final Set<String> HEALTH_CHECKS = Set.of("/ready", "/alive");
  static final String BOOTSTRAP_SEED_NODES = "/bootstrap/seed-nodes";
  private static final String BEARER = "Bearer ";

  boolean permits(String method, String path, Optional<String> authorization) {
    if (token.isEmpty() || HEALTH_CHECKS.contains(path)) return true;
    // Cluster Bootstrap's contact-point probe between peers (no token): it reads the seed nodes only.
    if (path.equals(BOOTSTRAP_SEED_NODES) && (method.equals("GET") || method.equals("HEAD"))) return true;
    if (loopback && (method.equals("GET") || method.equals("HEAD"))) return true;
    return authorization
        .filter(a -> a.regionMatches(true, 0, BEARER, 0, BEARER.length()))
        .map(a -> MessageDigest.isEqual(bytes(a.substring(BEARER.length()).strip()), bytes(token.get())))
        .orElse(false);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

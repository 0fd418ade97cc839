package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/** Free loopback TCP ports, never handing out the same one twice in this JVM. */
public final class Ports {
  private static final Set<Integer> given = new HashSet<>();

  private Ports() {}

  public static synchronized int free() {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int p = s.getLocalPort();
        if (given.add(p)) return p;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException("no free port");
  }

  /** True when something accepts TCP connections at 127.0.0.1:port. */
  public static boolean listening(int port) {
    return listening("127.0.0.1", port);
  }

  /** True when something accepts TCP connections at host:port. */
  public static boolean listening(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Waits until 127.0.0.1:port accepts connections, or fails after the timeout. */
  public static void awaitListening(int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (listening(port)) return;
      sleep(100);
    }
    throw new AssertionError("nothing listens on 127.0.0.1:" + port + " after " + timeout);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

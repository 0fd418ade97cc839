package mta.systemtest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A loopback TCP forwarder inside the test JVM, for network faults between the node and a peer
 * (its PostgreSQL journal). {@link #cut()} closes every forwarded connection and stops
 * listening, so new connections are refused; {@link #restore()} listens on the same port again.
 * {@link #rewriting} makes it a man in the middle that edits what the target sends (a STARTTLS
 * stripping attack).
 */
public final class TcpProxy implements AutoCloseable {
  private final String targetHost;
  private final int targetPort;
  private final int port;
  /** Applied to each chunk the target sends (ISO-8859-1 text: one char per octet). */
  private final UnaryOperator<String> fromTarget;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private volatile ServerSocket server;

  private TcpProxy(String targetHost, int targetPort, UnaryOperator<String> fromTarget) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.fromTarget = fromTarget;
    this.server = listen(0);
    this.port = server.getLocalPort();
    acceptLoop(server);
  }

  public static TcpProxy start(String targetHost, int targetPort) {
    return rewriting(targetHost, targetPort, UnaryOperator.identity());
  }

  /** A forwarder that passes what the target sends through {@code fromTarget} (same length keeps it simple). */
  public static TcpProxy rewriting(String targetHost, int targetPort, UnaryOperator<String> fromTarget) {
    try {
      return new TcpProxy(targetHost, targetPort, fromTarget);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  /** Connections accepted so far. */
  public int connections() {
    return accepted.get();
  }

  public boolean isCut() {
    return server == null;
  }

  /** Drops every connection and refuses new ones. */
  public synchronized void cut() {
    ServerSocket s = server;
    server = null;
    closeQuietly(s);
    open.forEach(TcpProxy::closeQuietly);
    open.clear();
  }

  /** Listens again on the same port. */
  public synchronized void restore() {
    if (server != null) return;
    IOException last = null;
    for (int i = 0; i < 50; i++) {
      try {
        server = listen(port);
        acceptLoop(server);
        return;
      } catch (IOException e) {
        last = e;
        Ports.sleep(100);
      }
    }
    throw new UncheckedIOException("cannot listen on " + port + " again", last);
  }

  private static ServerSocket listen(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
    return s;
  }

  private void acceptLoop(ServerSocket s) {
    Thread.ofVirtual().name("proxy-accept-" + port).start(() -> {
      while (!s.isClosed()) {
        Socket client;
        try {
          client = s.accept();
        } catch (IOException e) {
          return; // cut or closed
        }
        accepted.incrementAndGet();
        Thread.ofVirtual().start(() -> connect(client, s));
      }
    });
  }

  private void connect(Socket client, ServerSocket from) {
    Socket upstream = new Socket();
    try {
      upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
    } catch (IOException e) {
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    open.add(client);
    open.add(upstream);
    if (server != from) { // cut while we connected
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    Thread.ofVirtual().start(() -> pump(client, upstream, UnaryOperator.identity()));
    Thread.ofVirtual().start(() -> pump(upstream, client, fromTarget));
  }

  private void pump(Socket a, Socket b, UnaryOperator<String> edit) {
    byte[] buf = new byte[16384];
    try (InputStream in = a.getInputStream(); OutputStream out = b.getOutputStream()) {
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(edit.apply(new String(buf, 0, n, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    } catch (IOException ignored) {
      // one side closed or the proxy was cut
    } finally {
      closeQuietly(a);
      closeQuietly(b);
      open.remove(a);
      open.remove(b);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) return;
    try {
      c.close();
    } catch (Exception ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    cut();
  }

  @Override
  public String toString() {
    return "TcpProxy(127.0.0.1:" + port + " -> " + targetHost + ":" + targetPort + ")";
  }
}

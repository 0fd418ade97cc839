package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.time.Duration;

/**
 * A real dnsmasq as the node's name server, on a free loopback port (UDP and TCP), answering
 * only from its command line: {@code --mx-host=}, {@code --host-record=}, {@code --dns-rr=}
 * (e.g. a null MX: {@code --dns-rr=domain,15,000000}), {@code --server=/domain/127.0.0.1#port}
 * (forward to a dead upstream: SERVFAIL). Names under {@code .test} that are not configured
 * answer NXDOMAIN ({@code --local=/test/}). Queries are logged to {@code DIR/dnsmasq.log}.
 * The node asks it with {@link #setting()}.
 */
public final class Dnsmasq implements AutoCloseable {
  private final int port;
  private final Path logFile;
  private final Process process;

  private Dnsmasq(int port, Path logFile, Process process) {
    this.port = port;
    this.logFile = logFile;
    this.process = process;
  }

  /** Starts dnsmasq with these record options; its log goes to {@code dir/dnsmasq.log}. */
  public static Dnsmasq start(Path dir, String... records) {
    return start(dir, freeUdpAndTcpPort(), "test", Arrays.asList(records));
  }

  /**
   * Starts dnsmasq on {@code port}, answering for {@code localDomain} from these record
   * options only (other names there get NXDOMAIN); the log goes to {@code dir/dnsmasq.log}.
   */
  public static Dnsmasq start(Path dir, int port, String localDomain, List<String> records) {
    try {
      Files.createDirectories(dir);
      Path log = dir.resolve("dnsmasq.log");
      List<String> cmd = new ArrayList<>(List.of("dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
          "--conf-file=/dev/null", "--pid-file=", "--bind-interfaces", "--listen-address=127.0.0.1",
          "--port=" + port, "--local=/" + localDomain + "/", "--log-queries", "--log-facility=-", "--local-ttl=0"));
      cmd.addAll(records);
      Process p = Exec.daemon(cmd, log);
      // dnsmasq listens on TCP as well as UDP: a TCP connect says it is up.
      Exec.awaitListening(p, "127.0.0.1", port, log);
      return new Dnsmasq(port, log, p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A loopback port free for both UDP and TCP (dnsmasq binds both). */
  public static int freeUdpAndTcpPort() {
    for (int attempt = 0; attempt < 50; attempt++) {
      int port = Ports.free();
      try (DatagramSocket u = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
          ServerSocket t = new ServerSocket()) {
        t.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return port;
      } catch (IOException e) {
        // taken on one of the two: try another
      }
    }
    throw new IllegalStateException("no free UDP+TCP port");
  }

  public int port() {
    return port;
  }

  /** The value of {@code mta.dns.resolvers} that makes the node ask this server. */
  public List<String> resolvers() {
    return List.of("127.0.0.1:" + port);
  }

  /** Sets the node's resolver to this server, with a short per-query timeout. */
  public NodeProcess.Builder configure(NodeProcess.Builder node, String timeout) {
    return node.set("mta.dns.resolvers", resolvers()).set("mta.dns.timeout", timeout);
  }

  /** dnsmasq's query log. */
  public String log() {
    try {
      return Files.readString(logFile, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    Exec.stop(process, Duration.ofSeconds(5));
  }

  @Override
  public String toString() {
    return "dnsmasq(127.0.0.1:" + port + ")";
  }
}

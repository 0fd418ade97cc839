package mta.smtp;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import mta.config.HostPort;
import org.xbill.DNS.Type;

/**
 * Test support: a real dnsmasq on a free loopback port, answering only from its command line
 * (the records given, NXDOMAIN for the rest of {@code .test} and {@code .example}, REFUSED for
 * anything else), stopped with {@link #close()}.
 */
final class Dnsmasq implements AutoCloseable {
  private final Process process;
  final int port;

  private Dnsmasq(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** @param records dnsmasq options such as {@code --host-record=a.test,127.0.0.2} */
  static Dnsmasq start(String... records) throws IOException, InterruptedException {
    int port;
    try (var socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    var command = new ArrayList<>(List.of("dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
        "--conf-file=/dev/null", "--pid-file=", "--listen-address=127.0.0.1", "--bind-interfaces", "--port=" + port,
        "--local=/test/", "--local=/example/"));
    command.addAll(List.of(records));
    var process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    var dnsmasq = new Dnsmasq(process, port);
    var probe = new SmtpdDns(List.of(dnsmasq.address()), java.time.Duration.ofMillis(200));
    for (int i = 0; i < 50; i++) {
      if (probe.query("probe.test", Type.A).status() != SmtpdDns.Status.RETRY) return dnsmasq;
      if (!process.isAlive()) break;
      Thread.sleep(100);
    }
    dnsmasq.close();
    throw new IOException("dnsmasq did not start on port " + port);
  }

  HostPort address() {
    return new HostPort("127.0.0.1", port);
  }

  /** The setting that makes smtpd ask this server. */
  String setting() {
    return "mta.dns.resolvers = [ \"127.0.0.1:" + port + "\" ]\nmta.dns.timeout = 2s\n";
  }

  @Override
  public void close() {
    process.destroy();
  }
}

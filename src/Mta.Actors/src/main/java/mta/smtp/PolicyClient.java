package mta.smtp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import mta.config.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code check_policy_service inet:host:port}: Postfix's policy delegation protocol
 * (SMTPD_POLICY_README). A request is {@code name=value} lines and an empty line; the answer
 * is {@code action=...} and an empty line. Connections are kept open and reused across
 * requests and sessions; a reused connection that fails is replaced once. Every connect,
 * write and read is bounded by {@code smtpd_policy_service_timeout}.
 */
final class PolicyClient {
  private static final Logger log = LoggerFactory.getLogger("smtpd");

  private record Connection(Socket socket, BufferedReader in, OutputStream out) {
    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing a broken connection: nothing left to do
      }
    }
  }

  private final String name;
  private final HostPort server;
  private final Duration timeout;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();

  /** @param name as configured, {@code inet:127.0.0.1:10023} */
  PolicyClient(String name, Duration timeout) {
    if (!name.startsWith("inet:")) throw new IllegalArgumentException("check_policy_service " + name + ": only inet:host:port is supported");
    this.name = name;
    this.server = HostPort.parse(name.substring(5));
    this.timeout = timeout;
  }

  String name() {
    return name;
  }

  /** The server's action, or null when it could not be asked or did not answer properly (logged). */
  String query(Map<String, String> attributes) {
    var request = new StringBuilder();
    attributes.forEach((k, v) -> request.append(k).append('=').append(v.replace('\n', ' ').replace('\r', ' ')).append('\n'));
    var bytes = request.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    for (int attempt = 0; attempt < 2; attempt++) {
      var reused = attempt == 0 ? idle.pollFirst() : null;
      var connection = reused;
      try {
        if (connection == null) connection = connect();
        connection.out().write(bytes);
        connection.out().flush();
        String action = null;
        for (String line; (line = connection.in().readLine()) != null && !line.isEmpty(); ) {
          if (line.startsWith("action=")) action = line.substring(7);
        }
        if (action == null) throw new IOException("no action in the reply");
        idle.addFirst(connection);
        return action;
      } catch (IOException e) {
        if (connection != null) connection.close();
        if (reused == null || attempt == 1) {
          log.warn("warning: problem talking to server {}: {}", name, e.getMessage());
          return null;
        }
      }
    }
    return null;
  }

  private Connection connect() throws IOException {
    var socket = new Socket();
    try {
      socket.connect(new InetSocketAddress(server.host(), server.port()), (int) timeout.toMillis());
      socket.setSoTimeout((int) timeout.toMillis());
      return new Connection(socket, new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)),
          socket.getOutputStream());
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }
}

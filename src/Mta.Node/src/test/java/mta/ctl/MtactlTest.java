package mta.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** mtactl's exit statuses against a stand-in for the node (the JDK's HTTP server). */
class MtactlTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private HttpServer node;

  private int run(Map<String, String> env, String... args) {
    return Mtactl.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env);
  }

  private String endpoint(int status, String body, AtomicReference<String> authorization) throws IOException {
    node = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    node.createContext("/", exchange -> {
      authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
      var bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    node.start();
    return "http://127.0.0.1:" + node.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    if (node != null) node.stop(0);
  }

  @Test
  void anErrorFromTheNodeIsExitOneWithItsWords() throws IOException {
    var authorization = new AtomicReference<String>();
    var url = endpoint(401, "{\"error\":\"this call needs the management token\"}", authorization);
    assertEquals(CtlError.NODE, run(Map.of("MTACTL_TOKEN", "wrong"), "--endpoint", url, "queue", "hold", "ALL"));
    assertEquals("Bearer wrong", authorization.get(), "the token from MTACTL_TOKEN");
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("needs the management token"), err::toString);
  }

  @Test
  void anAnswerIsPrinted() throws IOException {
    var url = endpoint(200, "{\"action\":\"hold\",\"messages\":3}", new AtomicReference<>());
    assertEquals(0, run(Map.of(), "--endpoint", url, "queue", "hold", "ALL"));
    assertEquals("Placed on hold: 3 messages\n", out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void noNodeIsExitThree() throws IOException {
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    assertEquals(CtlError.UNREACHABLE, run(Map.of(), "--endpoint", "127.0.0.1:" + port, "cluster", "show"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot reach the node at http://127.0.0.1:" + port), err::toString);
  }

  @Test
  void usageIsExitTwoAndHelpIsNot() {
    assertEquals(CtlError.USAGE, run(Map.of(), "queue", "frob"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: mtactl"));
    assertEquals(0, run(Map.of(), "help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("usage: mtactl"));
  }
}

package mta.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import mta.config.ConfigError;
import mta.config.HostPort;
import mta.config.MtaConfig;
import mta.management.Json;

/**
 * mtactl's side of the management endpoint: which node (--endpoint, else the
 * {@code mta.management.listen} of the --config file, else {@value #DEFAULT_ENDPOINT}), with
 * which token (--token-file, else {@code MTACTL_TOKEN}, else the --config file's), and the
 * calls, whose failures become {@link CtlError}s with their exit status.
 */
final class CtlClient {
  static final String DEFAULT_ENDPOINT = "http://127.0.0.1:8558";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private final URI endpoint;
  private final Optional<String> token;
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT).build();

  CtlClient(URI endpoint, Optional<String> token) {
    this.endpoint = endpoint;
    this.token = token;
  }

  static CtlClient of(CtlArgs.Options options, Map<String, String> env) {
    var config = options.config().map(CtlClient::load);
    var endpoint = options.endpoint().orElseGet(() -> config
        .map(c -> URI.create("http://" + local(c.management().listen())))
        .orElse(URI.create(DEFAULT_ENDPOINT)));
    var token = options.tokenFile().map(CtlClient::readToken)
        .or(() -> Optional.ofNullable(env.get("MTACTL_TOKEN")).map(String::strip).filter(t -> !t.isEmpty()))
        .or(() -> config.flatMap(c -> c.management().token()));
    return new CtlClient(endpoint, token);
  }

  URI endpoint() {
    return endpoint;
  }

  JsonNode get(String path) {
    return Json.tree(send(request(path).GET(), HttpResponse.BodyHandlers.ofString()).body());
  }

  /** A call that changes something; {@code form} goes as the body, url-encoded, when not empty. */
  JsonNode send(String method, String path, Map<String, String> form) {
    var body = form.entrySet().stream()
        .map(e -> encode(e.getKey()) + "=" + encode(e.getValue())).collect(Collectors.joining("&"));
    var request = request(path).header("Content-Type", "application/x-www-form-urlencoded")
        .method(method, HttpRequest.BodyPublishers.ofString(body));
    return Json.tree(send(request, HttpResponse.BodyHandlers.ofString()).body());
  }

  /** A streamed answer, line by line as it comes (NDJSON, server-sent events); close it when done. */
  Stream<String> lines(String path) {
    return send(request(path).GET(), HttpResponse.BodyHandlers.ofLines()).body();
  }

  static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private HttpRequest.Builder request(String path) {
    var builder = HttpRequest.newBuilder(URI.create(endpoint.toString().replaceAll("/+$", "") + path));
    token.ifPresent(t -> builder.header("Authorization", "Bearer " + t));
    return builder;
  }

  private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler) {
    HttpResponse<T> response;
    try {
      response = http.send(request.build(), handler);
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw CtlError.unreachable("cannot reach the node at " + endpoint + ": " + reason(e)
          + " (is it running, and is that its mta.management.listen? --endpoint URL picks another node)");
    } catch (IOException e) {
      throw CtlError.unreachable("lost the connection to the node at " + endpoint + ": " + reason(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CtlError.node("interrupted");
    }
    if (response.statusCode() >= 400) throw CtlError.node(errorText(response));
    return response;
  }

  private static String errorText(HttpResponse<?> response) {
    var body = switch (response.body()) {
      case String s -> s;
      case Stream<?> lines -> lines.map(Object::toString).collect(Collectors.joining("\n"));
      default -> "";
    };
    String text;
    try {
      var json = Json.tree(body);
      text = json.has("error") ? json.get("error").asText() : json.path("message").asText(body);
    } catch (RuntimeException notJson) {
      text = body.isBlank() ? "HTTP " + response.statusCode() : body.strip();
    }
    var hint = response.statusCode() == 401 ? " (give it with --token-file FILE or MTACTL_TOKEN)" : "";
    return text + hint;
  }

  /** The first message down the chain of causes (the JDK's ConnectException often has none of its own). */
  private static String reason(Throwable e) {
    for (var t = e; t != null; t = t.getCause()) if (t.getMessage() != null) return t.getMessage();
    return e.getClass().getSimpleName();
  }

  private static MtaConfig load(Path file) {
    try {
      return MtaConfig.load(Optional.of(file));
    } catch (ConfigError e) {
      throw CtlError.usage(e.getMessage());
    }
  }

  /** A wildcard listen address is reached on loopback. */
  private static String local(HostPort listen) {
    return listen.host().equals("0.0.0.0") || listen.host().equals("::") ? "127.0.0.1:" + listen.port() : listen.toString();
  }

  private static String readToken(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      throw CtlError.usage("--token-file: cannot read " + file);
    }
  }
}

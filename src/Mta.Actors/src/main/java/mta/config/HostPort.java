package mta.config;

/** A listen address or next hop: {@code 127.0.0.1:2525}, {@code [::1]:25}, {@code [mx.example]:25}. */
public record HostPort(String host, int port) {

  /** Parses {@code host:port} or {@code [host]:port}; the port is required. */
  public static HostPort parse(String text) {
    String host;
    String rest;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) throw new IllegalArgumentException("missing ']' in '" + text + "'");
      host = text.substring(1, close);
      rest = text.substring(close + 1);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) throw new IllegalArgumentException("expected host:port, got '" + text + "'");
      host = text.substring(0, colon);
      rest = text.substring(colon);
    }
    if (!rest.startsWith(":")) throw new IllegalArgumentException("expected host:port, got '" + text + "'");
    try {
      int port = Integer.parseInt(rest.substring(1));
      if (port < 0 || port > 65535) throw new NumberFormatException();
      return new HostPort(host, port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in '" + text + "'");
    }
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}

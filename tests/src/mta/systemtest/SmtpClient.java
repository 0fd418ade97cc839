package mta.systemtest;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain SMTP client on a socket, for what swaks and smtp-source cannot say: MAIL ... SIZE=,
 * several commands written in one go (RFC 2920 pipelining), raw DATA. Every read has a timeout.
 */
public final class SmtpClient implements AutoCloseable {
  /** One reply: its code and its lines without the "NNN-"/"NNN " prefix. */
  public record Reply(int code, List<String> lines) {
    public String text() {
      return code + " " + String.join(" / ", lines);
    }

    public boolean positive() {
      return code >= 200 && code < 400;
    }

    @Override
    public String toString() {
      return text();
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final Reply greeting;

  private SmtpClient(int port, int timeoutMillis) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
    socket.setSoTimeout(timeoutMillis);
    in = new BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    greeting = readReply();
  }

  public static SmtpClient connect(int port) {
    try {
      return new SmtpClient(port, 60_000);
    } catch (IOException e) {
      throw new UncheckedIOException("connect 127.0.0.1:" + port, e);
    }
  }

  public Reply greeting() {
    return greeting;
  }

  public Reply ehlo(String name) {
    return command("EHLO " + name);
  }

  /** Writes one command line and reads its reply. */
  public Reply command(String line) {
    write(line + "\r\n");
    return readReply();
  }

  /** Writes raw text (CRLFs included by the caller) in one write, without reading. */
  public void write(String raw) {
    try {
      out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads one (possibly multi-line) reply. */
  public Reply readReply() {
    List<String> lines = new ArrayList<>();
    try {
      while (true) {
        String line = readLine();
        if (line == null) throw new IOException("connection closed; read so far: " + lines);
        if (line.length() < 3) throw new IOException("bad reply line: " + line);
        int code = Integer.parseInt(line.substring(0, 3));
        lines.add(line.length() > 4 ? line.substring(4) : "");
        if (line.length() == 3 || line.charAt(3) == ' ') return new Reply(code, List.copyOf(lines));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        byte[] bytes = b.toByteArray();
        int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  /** The message as DATA sends it: CRLF line ends, dot-stuffed, ending with CRLF.CRLF. */
  public static String dataBlock(String message) {
    StringBuilder b = new StringBuilder();
    for (String line : message.split("\r?\n", -1)) {
      if (line.startsWith(".")) b.append('.');
      b.append(line).append("\r\n");
    }
    return b.append(".\r\n").toString();
  }

  /** A small RFC 5322 message with the given Message-ID and Subject, and {@code bodyBytes} of body. */
  public static String message(String from, String to, String messageId, String subject, int bodyBytes) {
    StringBuilder b = new StringBuilder()
        .append("From: <").append(from).append(">\r\n")
        .append("To: <").append(to).append(">\r\n")
        .append("Subject: ").append(subject).append("\r\n")
        .append("Message-ID: <").append(messageId).append(">\r\n")
        .append("\r\n");
    int written = 0;
    while (written < bodyBytes) {
      int n = Math.min(76, bodyBytes - written);
      b.append("x".repeat(n)).append("\r\n");
      written += n + 2;
    }
    return b.toString();
  }

  /**
   * One transaction, step by step (no pipelining); returns the first negative reply, or the
   * reply to the final dot.
   */
  public Reply send(String from, List<String> to, String message) {
    Reply r = command("MAIL FROM:<" + from + ">");
    if (!r.positive()) return r;
    int accepted = 0;
    Reply lastRcpt = null;
    for (String t : to) {
      lastRcpt = command("RCPT TO:<" + t + ">");
      if (lastRcpt.positive()) accepted++;
    }
    if (accepted == 0) {
      command("RSET");
      return lastRcpt;
    }
    r = command("DATA");
    if (r.code() != 354) return r;
    write(dataBlock(message));
    return readReply();
  }

  @Override
  public void close() {
    try {
      if (!socket.isClosed()) {
        try {
          socket.setSoTimeout(5_000);
          command("QUIT");
        } catch (RuntimeException ignored) {
          // the server may have gone already
        }
      }
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}

// bench/AcceptLatency.java: accept latency of an SMTP server at a fixed offered load.
// Run with the JDK's source launcher, no build and no dependencies:
//
//   java bench/AcceptLatency.java -r 150 -n 3000 -s 20 -l 4096 127.0.0.1:2525
//
// Open loop: message i is due at start + i/R seconds whatever the server does; a free session
// (one of S) takes it then, or as soon as one is free (that wait is reported as "lag": when it
// grows, the load was not offered as asked). Each message is one SMTP transaction
// (EHLO, MAIL, RCPT, DATA; one connection per message unless -d) with L bytes of body.
// The latency is measured from the moment the final "." of DATA has been written (the whole
// message and "." go out in one write, the clock starts when it returns) to the moment the
// reply line to it has been read: the time the server takes to make the message durable and
// say 250. Prints one line of key=value (count, errors, p50/p90/p99/max in ms, lag, the rate
// offered); exits 0 when every message got a 250, 1 otherwise, 2 on bad usage.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

public class AcceptLatency {
  static int sessions = 20, size = 4096, count = 1000;
  static double rate = 100;
  static boolean reuse = false;
  static long timeoutSec = 600;
  static String from = "sender@client.test", to = "rcpt@example.net", helo = "client.test", host;
  static int port;

  static final long[] latency = new long[1 << 20]; // ns, by message index; -1 = no 250
  static final long[] lag = new long[1 << 20];
  static final long[] started = new long[1 << 20]; // when a session took message i (ns)
  static byte[] body;
  static final AtomicInteger errors = new AtomicInteger();
  static final Map<String, Integer> errorKinds = new TreeMap<>();
  static volatile boolean stop;

  record Job(int index, long due) {}

  static final Job END = new Job(-1, 0);

  public static void main(String[] args) throws Exception {
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-s" -> sessions = Integer.parseInt(args[++i]);
        case "-l" -> size = Integer.parseInt(args[++i]);
        case "-n" -> count = Integer.parseInt(args[++i]);
        case "-r" -> rate = Double.parseDouble(args[++i]);
        case "-d" -> reuse = true;
        case "-f" -> from = args[++i];
        case "-t" -> to = args[++i];
        case "-M" -> helo = args[++i];
        case "--timeout" -> timeoutSec = Long.parseLong(args[++i]);
        default -> {
          if (args[i].startsWith("-") || host != null) usage();
          int c = args[i].lastIndexOf(':');
          if (c < 0) usage();
          host = args[i].substring(0, c);
          port = Integer.parseInt(args[i].substring(c + 1));
        }
      }
    }
    if (host == null || count < 1 || count > latency.length || rate <= 0 || sessions < 1) usage();
    Arrays.fill(latency, 0, count, -1);

    body = body(size);
    BlockingQueue<Job> due = new ArrayBlockingQueue<>(count + sessions);
    Thread[] workers = new Thread[sessions];
    for (int w = 0; w < sessions; w++) {
      workers[w] = new Thread(() -> work(due), "session-" + w);
      workers[w].setDaemon(true);
      workers[w].start();
    }
    long start = System.nanoTime() + 50_000_000L;
    long deadline = start + TimeUnit.SECONDS.toNanos(timeoutSec);
    double interval = 1e9 / rate;
    int offered = 0;
    for (int i = 0; i < count && System.nanoTime() < deadline; i++) {
      long t = start + (long) (i * interval);
      for (long d; (d = t - System.nanoTime()) > 0; ) LockSupport.parkNanos(d);
      due.put(new Job(i, t));
      offered++;
    }
    for (int w = 0; w < sessions; w++) due.put(END);
    for (Thread w : workers) {
      long left = deadline - System.nanoTime();
      if (left > 0) w.join(Math.max(1, left / 1_000_000));
    }
    stop = true;
    long elapsed = System.nanoTime() - start;

    long[] ok = Arrays.stream(latency, 0, count).filter(v -> v >= 0).sorted().toArray();
    long[] lags = Arrays.stream(lag, 0, offered).sorted().toArray();
    long[] starts = Arrays.stream(started, 0, offered).filter(v -> v != 0).sorted().toArray();
    double offeredRate = starts.length < 2 ? Double.NaN : (starts.length - 1) / ((starts[starts.length - 1] - starts[0]) / 1e9);
    int missing = count - ok.length;
    System.out.printf(Locale.ROOT,
        "accept-latency: count=%d ok=%d errors=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f"
            + " lag_p99_ms=%.2f lag_max_ms=%.2f rate_asked=%.1f rate_offered=%.1f elapsed_s=%.2f sessions=%d bytes=%d%s%n",
        count, ok.length, missing, ms(pct(ok, 50)), ms(pct(ok, 90)), ms(pct(ok, 99)), ms(ok.length == 0 ? -1 : ok[ok.length - 1]),
        ms(pct(lags, 99)), ms(lags.length == 0 ? -1 : lags[lags.length - 1]), rate, offeredRate,
        elapsed / 1e9, sessions, size, reuse ? " reuse=yes" : "");
    synchronized (errorKinds) {
      errorKinds.forEach((k, v) -> System.err.println("accept-latency: error x" + v + ": " + k));
    }
    if (offered < count) System.err.println("accept-latency: timed out after " + timeoutSec + " s, " + offered + " of " + count + " offered");
    System.exit(missing == 0 && offered == count ? 0 : 1);
  }

  static void usage() {
    System.err.println("usage: java bench/AcceptLatency.java -r MSG_PER_S -n COUNT [-s SESSIONS] [-l BODY_BYTES] [-d]"
        + " [-f FROM] [-t TO] [-M HELO] [--timeout SEC] HOST:PORT");
    System.exit(2);
  }

  static double ms(long ns) {
    return ns < 0 ? Double.NaN : ns / 1e6;
  }

  /** Nearest-rank percentile of a sorted array. */
  static long pct(long[] sorted, double p) {
    if (sorted.length == 0) return -1;
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** size bytes of body in lines of at most 78 characters plus CRLF. */
  static byte[] body(int size) {
    StringBuilder b = new StringBuilder(size + 80);
    String line = "La De Da " + "x".repeat(69);
    while (b.length() + line.length() + 2 <= size) b.append(line).append("\r\n");
    int rest = size - b.length();
    if (rest >= 2) b.append("x".repeat(rest - 2)).append("\r\n");
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }

  static void error(String kind) {
    errors.incrementAndGet();
    synchronized (errorKinds) {
      errorKinds.merge(kind, 1, Integer::sum);
    }
  }

  static final class Session implements AutoCloseable {
    final Socket socket = new Socket();
    final BufferedReader in;
    final OutputStream out;

    Session() throws IOException {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(120_000);
      socket.connect(new InetSocketAddress(host, port), 30_000);
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      out = socket.getOutputStream();
      expect(reply(), 220, "greeting");
      command("EHLO " + helo, 250);
    }

    String reply() throws IOException {
      String line;
      do {
        line = in.readLine();
        if (line == null) throw new IOException("connection closed by server");
      } while (line.length() > 3 && line.charAt(3) == '-');
      return line;
    }

    void command(String c, int code) throws IOException {
      out.write((c + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      expect(reply(), code, c.split(" ")[0]);
    }

    static void expect(String reply, int code, String what) throws IOException {
      if (!reply.startsWith(Integer.toString(code))) throw new IOException(what + ": " + reply.replaceAll("[0-9A-F]{8,}", "#"));
    }

    /** One transaction; the nanoseconds from the end of DATA to its reply. */
    long send(int index) throws IOException {
      command("MAIL FROM:<" + from + ">", 250);
      command("RCPT TO:<" + to + ">", 250);
      command("DATA", 354);
      String headers = "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: accept latency " + index + "\r\n"
          + "Message-Id: <" + index + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + "@" + helo + ">\r\n"
          + "Date: " + ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME) + "\r\n\r\n";
      byte[] h = headers.getBytes(StandardCharsets.US_ASCII);
      byte[] all = new byte[h.length + body.length + 3];
      System.arraycopy(h, 0, all, 0, h.length);
      byte[] b = body;
      System.arraycopy(b, 0, all, h.length, b.length);
      System.arraycopy(".\r\n".getBytes(StandardCharsets.US_ASCII), 0, all, h.length + b.length, 3);
      out.write(all, 0, h.length + b.length + 3);
      out.flush();
      long t0 = System.nanoTime();
      String r = reply();
      long t1 = System.nanoTime();
      expect(r, 250, "end of DATA");
      return t1 - t0;
    }

    @Override
    public void close() {
      try {
        out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        in.readLine();
      } catch (IOException ignored) {
        // the message is in; a lost QUIT does not matter
      }
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing to do
      }
    }
  }

  static void work(BlockingQueue<Job> due) {
    Session s = null;
    try {
      while (!stop) {
        Job job = due.take();
        if (job == END) break;
        long now = System.nanoTime();
        started[job.index()] = now;
        lag[job.index()] = now - job.due();
        try {
          if (s == null) s = new Session();
          latency[job.index()] = s.send(job.index());
        } catch (IOException e) {
          error(e.getMessage() == null ? e.toString() : e.getMessage());
          if (s != null) s.close();
          s = null;
          continue;
        }
        if (!reuse) {
          s.close();
          s = null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (s != null) s.close();
    }
  }
}

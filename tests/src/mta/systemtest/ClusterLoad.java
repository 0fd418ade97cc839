package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Mail sent to a cluster by many SMTP clients at once ({@link SmtpClient}, one thread per
 * client), and what became of it at the sink.
 *
 * <p>Each logical message has a unique Message-ID ({@code <TAG-N@cluster.test>}); a message
 * counts as accepted only when a node answered its final dot with 250 ({@link #acked()}).
 * A 4xx, or a connection that drops before the reply, means "not accepted": the client sends
 * the same message again (same Message-ID, the Subject says which try) on the same node or,
 * when that node no longer takes connections, on the next one. Client {@code t} starts on node
 * {@code t mod N}, sends {@code perSession} messages per SMTP session and QUITs.
 *
 * <p>Every client-visible event is counted: connections refused (or dropped before the
 * greeting), replies other than 2xx/3xx in a session, sessions lost in the middle, by node.
 *
 * <p>{@link Ledger} watches the sink's dump directory and records, for each dumped message, its
 * Message-ID, the node that delivered it (the sink's X-Helo-Args: the node's myhostname), the
 * node that accepted it and its queue id (the node's Received header) and when it showed up.
 */
final class ClusterLoad implements AutoCloseable {
  /**
   * One accepted message: 250 from {@code node} for queue id {@code queueId}, on try
   * {@code attempt}, at {@code atNanos}; the transaction (MAIL to the reply to the dot) took
   * {@code tookNanos}.
   */
  record Ack(String id, String queueId, String node, long atNanos, int attempt, long tookNanos) {}

  /** A reply other than 2xx/3xx, or a lost connection, seen by a client. */
  record Incident(long atNanos, String node, String what) {}

  private final String tag;
  private final int messages;
  private final int clients;
  private final int perSession;
  private final int bodyBytes;
  private final long intervalNanos;
  private final Supplier<List<NodeProcess>> targets;
  private final int maxAttempts = 40;

  private final AtomicInteger next = new AtomicInteger();
  private final AtomicLong nextSlot = new AtomicLong();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final Map<String, Ack> acked = new ConcurrentHashMap<>();
  private final Map<String, String> unknownOutcome = new ConcurrentHashMap<>();
  private final Set<String> gaveUp = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<Incident> refused = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Incident> inSession = new ConcurrentLinkedQueue<>();
  private final Map<String, AtomicInteger> ackedByNode = new ConcurrentHashMap<>();
  private final AtomicInteger attempts = new AtomicInteger();
  private final AtomicInteger sessions = new AtomicInteger();
  private final List<Thread> threads = new ArrayList<>();
  private long startedNanos;
  private long finishedNanos;

  /**
   * @param tag           the Message-ID prefix of this run
   * @param messages      how many logical messages
   * @param clients       how many clients (threads) send at once
   * @param perSession    messages per SMTP session before QUIT
   * @param ratePerSecond the pace of all clients together (tries per second); 0: as fast as they can
   * @param targets       the nodes to send to, in a fixed order (asked again at every connect)
   */
  ClusterLoad(String tag, int messages, int clients, int perSession, double ratePerSecond, int bodyBytes,
      Supplier<List<NodeProcess>> targets) {
    this.tag = tag;
    this.messages = messages;
    this.clients = clients;
    this.perSession = perSession;
    this.bodyBytes = bodyBytes;
    this.intervalNanos = ratePerSecond <= 0 ? 0 : (long) (1e9 / ratePerSecond);
    this.targets = targets;
  }

  static String messageId(String tag, int i) {
    return tag + "-" + i + "@cluster.test";
  }

  ClusterLoad start() {
    startedNanos = System.nanoTime();
    nextSlot.set(startedNanos);
    for (int t = 0; t < clients; t++) {
      int client = t;
      Thread th = Thread.ofPlatform().daemon().name("smtp-client-" + t).start(() -> run(client));
      threads.add(th);
    }
    return this;
  }

  /** How many logical messages were handed to a client so far (accepted or still trying). */
  int started() {
    return Math.min(next.get(), messages);
  }

  int ackedCount() {
    return acked.size();
  }

  /** Waits until every client is done (or {@code timeout} passes: then they are told to stop). */
  void await(long timeout, TimeUnit unit) {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    for (Thread t : threads) {
      try {
        long left = deadline - System.nanoTime();
        if (left > 0) t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    if (threads.stream().anyMatch(Thread::isAlive)) {
      stop.set(true);
      threads.forEach(t -> {
        try {
          t.join(70_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    finishedNanos = System.nanoTime();
  }

  /** Tells every client to stop after its current command (for the end of a test that failed). */
  @Override
  public void close() {
    stop.set(true);
  }

  long startedNanos() {
    return startedNanos;
  }

  double seconds() {
    return (finishedNanos - startedNanos) / 1e9;
  }

  Map<String, Ack> acked() {
    return Map.copyOf(acked);
  }

  /** Tries whose connection dropped after DATA was sent, before the reply: they may be queued. */
  Map<String, String> unknownOutcome() {
    return Map.copyOf(unknownOutcome);
  }

  Set<String> gaveUp() {
    return Set.copyOf(gaveUp);
  }

  List<Incident> refused() {
    return List.copyOf(refused);
  }

  List<Incident> inSession() {
    return List.copyOf(inSession);
  }

  int attempts() {
    return attempts.get();
  }

  int sessions() {
    return sessions.get();
  }

  Map<String, Integer> ackedByNode() {
    Map<String, Integer> m = new TreeMap<>();
    ackedByNode.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** Incidents counted by node and kind (the reply code, or "lost connection"). */
  static Map<String, Integer> summary(Collection<Incident> incidents) {
    Map<String, Integer> m = new TreeMap<>();
    for (Incident i : incidents) {
      String kind = i.what().matches("^\\d{3} .*") ? i.what().substring(0, 3) : i.what().replaceAll(":.*", "");
      m.merge(i.node() + " " + kind, 1, Integer::sum);
    }
    return m;
  }

  // ---- one client

  private void run(int client) {
    int home = client;
    String pending = null;
    int pendingIndex = -1;
    int tries = 0;
    while (!stop.get()) {
      if (pending == null) {
        pendingIndex = next.getAndIncrement();
        if (pendingIndex >= messages) return;
        pending = messageId(tag, pendingIndex);
        tries = 0;
      }
      List<NodeProcess> nodes = targets.get();
      NodeProcess node = nodes.get(Math.floorMod(home, nodes.size()));
      SmtpClient c;
      try {
        c = SmtpClient.connect(node.smtpPort());
      } catch (RuntimeException e) {
        refused.add(new Incident(System.nanoTime(), node.name(), "refused: " + rootMessage(e)));
        home++;
        Ports.sleep(100);
        continue;
      }
      sessions.incrementAndGet();
      try (c) {
        if (c.greeting().code() != 220) {
          // A node on its way out may greet with 421: that is a refusal, not an error in a session.
          refused.add(new Incident(System.nanoTime(), node.name(), "greeting " + c.greeting().text()));
          home++;
          continue;
        }
        SmtpClient.Reply ehlo = c.ehlo("client" + client + ".test");
        if (ehlo.code() != 250) {
          inSession.add(new Incident(System.nanoTime(), node.name(), ehlo.text()));
          continue;
        }
        int sent = 0;
        boolean sessionUsable = true;
        while (sessionUsable && sent < perSession && !stop.get()) {
          if (pending == null) {
            pendingIndex = next.getAndIncrement();
            if (pendingIndex >= messages) break;
            pending = messageId(tag, pendingIndex);
            tries = 0;
          }
          pace();
          tries++;
          attempts.incrementAndGet();
          String rcpt = "r" + pendingIndex + "@remote.example";
          String body = SmtpClient.message("sender@client.test", rcpt, pending,
              tag + " " + pendingIndex + " try " + tries, bodyBytes);
          SmtpClient.Reply r;
          long began = System.nanoTime();
          try {
            r = c.send("sender@client.test", List.of(rcpt), body);
          } catch (UncheckedIOException e) {
            // Lost in the middle: if DATA went out the node may have queued it; we do not know.
            unknownOutcome.put(pending + " try " + tries, node.name());
            inSession.add(new Incident(System.nanoTime(), node.name(), "lost connection: " + rootMessage(e)));
            if (tries >= maxAttempts) {
              gaveUp.add(pending);
              pending = null;
            }
            home++;
            sessionUsable = false;
            break;
          }
          sent++;
          if (r.code() == 250) {
            Matcher m = Pattern.compile("queued as (\\S+)").matcher(r.text());
            long now = System.nanoTime();
            acked.put(pending, new Ack(pending, m.find() ? m.group(1) : "?", node.name(), now, tries, now - began));
            ackedByNode.computeIfAbsent(node.name(), k -> new AtomicInteger()).incrementAndGet();
            pending = null;
          } else {
            inSession.add(new Incident(System.nanoTime(), node.name(), r.text()));
            if (r.code() >= 500 || tries >= maxAttempts) {
              gaveUp.add(pending);
              pending = null;
            }
            if (r.code() == 421) sessionUsable = false;
            Ports.sleep(200);
          }
        }
        if (sessionUsable) {
          try {
            SmtpClient.Reply quit = c.command("QUIT");
            if (quit.code() != 221) inSession.add(new Incident(System.nanoTime(), node.name(), "QUIT: " + quit.text()));
          } catch (UncheckedIOException e) {
            inSession.add(new Incident(System.nanoTime(), node.name(), "lost connection: at QUIT: " + rootMessage(e)));
          }
        }
      } catch (UncheckedIOException e) {
        inSession.add(new Incident(System.nanoTime(), node.name(), "lost connection: " + rootMessage(e)));
        home++;
      }
    }
  }

  private void pace() {
    if (intervalNanos == 0) return;
    long slot = nextSlot.getAndAdd(intervalNanos);
    long wait = slot - System.nanoTime();
    if (wait > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else if (wait < -1_000_000_000L) {
      // Fell behind (a stall): do not burst to catch up.
      nextSlot.compareAndSet(slot + intervalNanos, System.nanoTime());
    }
  }

  static String rootMessage(Throwable t) {
    Throwable r = t;
    while (r.getCause() != null) r = r.getCause();
    if (r instanceof SocketTimeoutException) return "timeout";
    return r.getClass().getSimpleName() + (r.getMessage() == null ? "" : " " + r.getMessage());
  }

  // ---- what arrived at the sink

  /** One dumped message at the sink. */
  record Delivery(String file, String messageId, String subject, String deliveredBy, String acceptedBy, String queueId,
      long seenNanos) {}

  /**
   * Watches a sink's dump directory (every 100 ms, in a daemon thread) and remembers when each
   * dumped message was first seen. A dump file appears at MAIL and is complete at the final
   * dot; one that is still incomplete is read again later, and one that vanished (smtp-sink
   * deletes the dump of an aborted transaction) is forgotten by {@link #deliveries()}.
   */
  static final class Ledger implements AutoCloseable {
    private static final Pattern MESSAGE_ID = Pattern.compile("(?im)^Message-ID:\\s*<([^>]+)>");
    private static final Pattern SUBJECT = Pattern.compile("(?im)^Subject:\\s*(.*)$");
    private static final Pattern HELO = Pattern.compile("(?im)^X-Helo-Args:\\s*(\\S+)");
    private static final Pattern RECEIVED_BY = Pattern.compile("(?i)by (\\S+) \\(mta\\) with E?SMTP id (\\S+)");

    private final SmtpSink sink;
    private final Map<String, Delivery> seen = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    Ledger(SmtpSink sink) {
      this.sink = sink;
      this.thread = Thread.ofPlatform().daemon().name("sink-ledger").start(() -> {
        while (running) {
          scan();
          Ports.sleep(100);
        }
      });
    }

    private synchronized void scan() {
      List<Path> files;
      try (Stream<Path> s = Files.list(sink.dumpDir())) {
        files = s.filter(Files::isRegularFile).toList();
      } catch (IOException e) {
        return;
      }
      long now = System.nanoTime();
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (seen.containsKey(name)) continue;
        String text;
        try {
          text = Files.readString(f, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
          continue;
        } catch (IOException e) {
          continue;
        }
        // Complete enough to tell which message it is: the header is in (the blank line after it).
        String head = text.split("\n\n", 2)[0];
        if (!text.contains("\n\n")) continue;
        Matcher id = MESSAGE_ID.matcher(head);
        if (!id.find()) continue;
        Matcher subject = SUBJECT.matcher(head);
        Matcher helo = HELO.matcher(head);
        String acceptedBy = "?";
        String queueId = "?";
        Matcher by = RECEIVED_BY.matcher(head.replaceAll("\n[ \t]+", " "));
        if (by.find()) {
          acceptedBy = by.group(1);
          queueId = by.group(2).replaceAll(";$", "");
        }
        seen.put(name, new Delivery(name, id.group(1), subject.find() ? subject.group(1).trim() : "",
            helo.find() ? helo.group(1) : "?", acceptedBy, queueId, now));
      }
    }

    /** Every dumped message that is still there (a final scan first). */
    synchronized List<Delivery> deliveries() {
      scan();
      Set<String> present = new java.util.HashSet<>();
      try (Stream<Path> s = Files.list(sink.dumpDir())) {
        s.forEach(p -> present.add(p.getFileName().toString()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return seen.values().stream().filter(d -> present.contains(d.file()))
          .sorted(java.util.Comparator.comparingLong(Delivery::seenNanos)).toList();
    }

    /** The deliveries of one run (Message-IDs starting with {@code tag-}), by Message-ID. */
    Map<String, List<Delivery>> byMessageId(String tag) {
      Map<String, List<Delivery>> m = new LinkedHashMap<>();
      for (Delivery d : deliveries()) {
        if (d.messageId().startsWith(tag + "-")) m.computeIfAbsent(d.messageId(), k -> new ArrayList<>()).add(d);
      }
      return m;
    }

    /** Waits until every id in {@code ids} has arrived, or the timeout; the ids still missing. */
    List<String> awaitAll(String tag, Collection<String> ids, long timeout, TimeUnit unit) {
      long deadline = System.nanoTime() + unit.toNanos(timeout);
      while (true) {
        Map<String, List<Delivery>> got = byMessageId(tag);
        List<String> missing = ids.stream().filter(id -> !got.containsKey(id)).sorted().toList();
        if (missing.isEmpty() || System.nanoTime() > deadline) return missing;
        Ports.sleep(250);
      }
    }

    @Override
    public void close() {
      running = false;
      try {
        thread.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Duplicates among a run's deliveries: the same queue id twice (a redelivery), or two queue ids (a client's retry). */
  record Duplicates(int redeliveries, int clientRetries, List<String> examples) {
    static Duplicates of(Map<String, List<Delivery>> byId) {
      int redeliveries = 0;
      int retries = 0;
      List<String> examples = new ArrayList<>();
      for (var e : byId.entrySet()) {
        if (e.getValue().size() < 2) continue;
        Map<String, Integer> perQueueId = new HashMap<>();
        e.getValue().forEach(d -> perQueueId.merge(d.queueId(), 1, Integer::sum));
        for (int n : perQueueId.values()) redeliveries += n - 1;
        retries += perQueueId.size() - 1;
        if (examples.size() < 10) {
          examples.add(e.getKey() + ": " + e.getValue().stream()
              .map(d -> d.queueId() + " via " + d.deliveredBy() + " (" + d.subject() + ")").toList());
        }
      }
      return new Duplicates(redeliveries, retries, examples);
    }

    int total() {
      return redeliveries + clientRetries;
    }
  }

  /** Percentiles of a list of seconds, as "p50 X s, p95 Y s, max Z s". */
  static String spread(List<Double> seconds) {
    if (seconds.isEmpty()) return "n/a";
    List<Double> s = seconds.stream().sorted().toList();
    return String.format(java.util.Locale.ROOT, "p50 %.2f s, p95 %.2f s, max %.2f s", s.get((s.size() - 1) / 2),
        s.get((int) Math.ceil(0.95 * (s.size() - 1))), s.get(s.size() - 1));
  }
}

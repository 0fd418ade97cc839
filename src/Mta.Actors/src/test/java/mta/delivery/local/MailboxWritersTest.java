package mta.delivery.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Maildir and mbox writers on real temporary directories. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MailboxWritersTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-03-01T12:00:00Z"), ZoneOffset.UTC);
  private static final MboxDelivery.Locking FAST = new MboxDelivery.Locking(2000, Duration.ofMillis(5), Duration.ofSeconds(500));
  private static final String MESSAGE = "Subject: hi\r\nFrom: alice@example.org\r\n\r\nFrom the start\r\n>From quoted already\r\nend\r\n";
  private static final String STORED = "Return-Path: <alice@example.org>\nX-Original-To: postmaster@mx.test\n"
      + "Delivered-To: bob@mx.test\nSubject: hi\nFrom: alice@example.org\n\nFrom the start\n>From quoted already\nend\n";

  @TempDir Path dir;

  private static Delivery delivery(String content) {
    return new Delivery("alice@example.org", "postmaster@mx.test", "bob@mx.test", content.getBytes(StandardCharsets.UTF_8));
  }

  // --- Maildir --------------------------------------------------------------------------

  @Test
  void maildirDeliveryCreatesTheDirectoriesAndMovesTheFileIntoNew() throws IOException {
    var maildir = dir.resolve("bob/Maildir");
    var result = new MaildirDelivery("mx.test", 0, CLOCK).deliver(maildir, delivery(MESSAGE));
    assertEquals(new LocalResult.Delivered("delivered to maildir"), result);
    assertTrue(Files.isDirectory(maildir.resolve("cur")));
    assertEquals(List.of(), list(maildir.resolve("tmp")));
    var files = list(maildir.resolve("new"));
    assertEquals(1, files.size());
    assertTrue(Pattern.matches("1709294400\\.P\\d+_\\d+\\.mx\\.test", files.get(0).getFileName().toString()), files.get(0).toString());
    assertEquals(STORED, Files.readString(files.get(0)));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.get(0))));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(maildir.resolve("new"))));
  }

  @Test
  void everyMaildirFileHasItsOwnName() throws IOException {
    var writer = new MaildirDelivery("host/with:odd", 0, CLOCK);
    for (int i = 0; i < 20; i++) writer.deliver(dir, delivery(MESSAGE + i));
    var names = list(dir.resolve("new")).stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(20, new HashSet<>(names).size());
    assertTrue(names.get(0).endsWith(".host\\057with\\072odd"), names.get(0));
  }

  @Test
  void aMaildirMessageOverTheSizeLimitBouncesAndLeavesNothing() throws IOException {
    var result = new MaildirDelivery("mx.test", 100, CLOCK).deliver(dir, delivery(MESSAGE));
    var bounced = assertInstanceOf(LocalResult.Bounced.class, result);
    assertEquals("5.2.2", bounced.dsn());
    assertTrue(bounced.reason().endsWith("error writing message: File too large"), bounced.reason());
    assertEquals(List.of(), list(dir.resolve("tmp")));
    assertEquals(List.of(), list(dir.resolve("new")));
  }

  @Test
  void aMaildirThatCannotBeCreatedDefers() throws IOException {
    var file = Files.writeString(dir.resolve("plain-file"), "x");
    var deferred = assertInstanceOf(LocalResult.Deferred.class, new MaildirDelivery("mx.test", 0, CLOCK).deliver(file.resolve("Maildir"), delivery(MESSAGE)));
    assertEquals("4.3.0", deferred.dsn());
  }

  // --- mbox -----------------------------------------------------------------------------

  @Test
  void mboxDeliveryAppendsFromLineQuotedMessageAndEmptyLine() throws IOException {
    var mbox = dir.resolve("spool/bob");
    var writer = new MboxDelivery(0, FAST, CLOCK);
    assertEquals(new LocalResult.Delivered("delivered to mailbox"), writer.deliver(mbox, delivery(MESSAGE)));
    assertEquals(new LocalResult.Delivered("delivered to mailbox"),
        writer.deliver(mbox, new Delivery("", "bob@mx.test", "bob@mx.test", "Subject: bounce\r\n\r\nno newline at end".getBytes())));
    var entry = "From alice@example.org  Fri Mar  1 12:00:00 2024\n"
        + STORED.replace("\nFrom the start", "\n>From the start") + "\n";
    var second = "From MAILER-DAEMON  Fri Mar  1 12:00:00 2024\nReturn-Path: <>\nX-Original-To: bob@mx.test\n"
        + "Delivered-To: bob@mx.test\nSubject: bounce\n\nno newline at end\n\n";
    assertEquals(entry + second, Files.readString(mbox));
    assertFalse(Files.exists(dir.resolve("spool/bob.lock")));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mbox)));
  }

  @Test
  void anMboxOverTheSizeLimitIsTruncatedBackAndTheMessageBounces() throws IOException {
    var mbox = dir.resolve("bob");
    var before = "From x  Thu Feb 29 10:00:00 2024\nSubject: old\n\nold mail\n\n";
    Files.writeString(mbox, before);
    var result = new MboxDelivery(before.length() + 50, FAST, CLOCK).deliver(mbox, delivery(MESSAGE));
    assertEquals(new LocalResult.Bounced("5.2.2", "cannot update mailbox " + mbox + " for user bob. error writing message: File too large"), result);
    assertArrayEquals(before.getBytes(), Files.readAllBytes(mbox));
    assertFalse(Files.exists(dir.resolve("bob.lock")));
  }

  @Test
  void aHeldDotLockDefers() throws IOException {
    var mbox = dir.resolve("bob");
    Files.createFile(dir.resolve("bob.lock"));
    var result = new MboxDelivery(0, new MboxDelivery.Locking(3, Duration.ofMillis(10), Duration.ofSeconds(500)), CLOCK).deliver(mbox, delivery(MESSAGE));
    assertEquals("4.2.0", assertInstanceOf(LocalResult.Deferred.class, result).dsn());
    assertTrue(Files.exists(dir.resolve("bob.lock")), "someone else's lock stays");
    assertFalse(Files.exists(mbox) && Files.size(mbox) > 0);
  }

  @Test
  void aStaleDotLockIsRemoved() throws IOException {
    var mbox = dir.resolve("bob");
    var lock = Files.createFile(dir.resolve("bob.lock"));
    Files.setLastModifiedTime(lock, FileTime.from(Instant.now().minusSeconds(3600)));
    assertEquals(new LocalResult.Delivered("delivered to mailbox"), new MboxDelivery(0, FAST, CLOCK).deliver(mbox, delivery(MESSAGE)));
    assertFalse(Files.exists(lock));
  }

  @Test
  void aHeldKernelLockDefers() throws IOException {
    var mbox = Files.createFile(dir.resolve("bob"));
    try (var other = FileChannel.open(mbox, StandardOpenOption.WRITE); var held = other.lock()) {
      assertTrue(held.isValid());
      var result = new MboxDelivery(0, new MboxDelivery.Locking(3, Duration.ofMillis(10), Duration.ofSeconds(500)), CLOCK).deliver(mbox, delivery(MESSAGE));
      var deferred = assertInstanceOf(LocalResult.Deferred.class, result);
      assertEquals("4.2.0", deferred.dsn());
      assertTrue(deferred.reason().contains("unable to lock for exclusive access"), deferred.reason());
    }
    assertEquals(0, Files.size(mbox));
    assertFalse(Files.exists(dir.resolve("bob.lock")));
  }

  @Test
  void concurrentAppendsFromTwoThreadsStayIntact() throws Exception {
    var mbox = dir.resolve("shared");
    var writer = new MboxDelivery(0, FAST, CLOCK);
    int perThread = 50;
    var pool = Executors.newFixedThreadPool(2);
    try {
      var futures = new ArrayList<Future<List<LocalResult>>>();
      for (var thread : List.of("A", "B")) {
        futures.add(pool.submit(() -> {
          var results = new ArrayList<LocalResult>();
          for (int i = 0; i < perThread; i++) results.add(writer.deliver(mbox, delivery(body(thread, i))));
          return results;
        }));
      }
      for (var f : futures) f.get(50, TimeUnit.SECONDS).forEach(r -> assertEquals(new LocalResult.Delivered("delivered to mailbox"), r));
    } finally {
      pool.shutdownNow();
    }
    var messages = Files.readString(mbox).split("\n(?=From alice@example\\.org  )");
    assertEquals(2 * perThread, messages.length);
    var seen = new HashSet<String>();
    for (var m : messages) {
      var matcher = Pattern.compile("Subject: (\\w+)-(\\d+)\n").matcher(m);
      assertTrue(matcher.find(), m);
      var id = matcher.group(1) + "-" + matcher.group(2);
      assertTrue(seen.add(id), "twice: " + id);
      var expected = "From alice@example.org  Fri Mar  1 12:00:00 2024\n"
          + new String(delivery(body(matcher.group(1), Integer.parseInt(matcher.group(2)))).stored(), StandardCharsets.UTF_8)
              .replace("\nFrom line", "\n>From line");
      assertEquals(expected, m.endsWith("\n\n") ? m.substring(0, m.length() - 1) : m);
    }
    assertEquals(Set.of(), Set.copyOf(list(dir).stream().map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".lock")).toList()));
  }

  private static String body(String thread, int i) {
    var sb = new StringBuilder("Subject: " + thread + "-" + i + "\r\n\r\n");
    for (int line = 0; line < 40; line++) sb.append(line % 7 == 0 ? "From line " : "line ").append(thread).append(i).append('.').append(line).append("\r\n");
    return sb.toString();
  }

  private static List<Path> list(Path directory) throws IOException {
    try (Stream<Path> s = Files.list(directory)) {
      return s.sorted().toList();
    }
  }
}

package mta.delivery.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Set;
import mta.mail.MailAddress;

/**
 * Appending to a UNIX mbox file (Postfix local's mailbox.c and mail_copy.c).
 *
 * <p>Locking: first a {@code <mbox>.lock} dot-lock file (created exclusively; one older than
 * stale_lock_time is taken to be left by a dead process and removed), then an exclusive
 * kernel lock on the mailbox itself, so that mail readers using either convention keep out.
 * Each lock is tried deliver_lock_attempts times, deliver_lock_delay apart; failing that the
 * delivery is deferred (4.2.0).
 *
 * <p>The message is written as {@code From sender  date} (asctime), the headers local adds,
 * the message with {@code >From } quoting of lines that start with {@code From }, and an
 * empty line; then synced. If anything fails, the file is truncated back to its old size.
 * mailbox_size_limit caps the size of the whole file (5.2.2 when it would be exceeded).
 * Blocking I/O: run it on a dispatcher meant for that. Thread-safe.
 */
public final class MboxDelivery {
  private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT);
  private static final byte[] FROM_ = "From ".getBytes(StandardCharsets.US_ASCII);

  /** How hard to try for the locks: deliver_lock_attempts, deliver_lock_delay, stale_lock_time. */
  public record Locking(int attempts, Duration delay, Duration staleAfter) {
    /** Postfix's defaults: 20 attempts, 1s apart; a dot-lock older than 500s is stale. */
    public static final Locking POSTFIX = new Locking(20, Duration.ofSeconds(1), Duration.ofSeconds(500));
  }

  private final long sizeLimit;
  private final Locking locking;
  private final Clock clock;

  /**
   * @param sizeLimit mailbox_size_limit: the largest mbox file in bytes, 0 for none
   * @param locking how hard to try for the locks
   * @param clock the date on the {@code From } line
   */
  public MboxDelivery(long sizeLimit, Locking locking, Clock clock) {
    this.sizeLimit = sizeLimit;
    this.locking = locking;
    this.clock = clock;
  }

  /** Appends to the mbox file {@code mbox}, creating it (mode 0600) if need be. */
  public LocalResult deliver(Path mbox, Delivery delivery) {
    var what = "cannot update mailbox " + mbox + " for user " + MailAddress.parse(delivery.recipient()).localPart() + ".";
    var dotLock = mbox.resolveSibling(mbox.getFileName() + ".lock");
    try {
      Files.createDirectories(mbox.toAbsolutePath().getParent());
      if (!acquireDotLock(dotLock)) {
        return new LocalResult.Deferred("4.2.0", what + " unable to create lock file " + dotLock + ": File exists");
      }
      try (var channel = FileChannel.open(mbox, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), MailboxFiles.FILE_MODE)) {
        var lock = acquireKernelLock(channel);
        if (lock == null) return new LocalResult.Deferred("4.2.0", what + " unable to lock for exclusive access: Resource temporarily unavailable");
        try {
          return append(channel, delivery, what);
        } finally {
          lock.release();
        }
      } finally {
        Files.deleteIfExists(dotLock);
      }
    } catch (IOException e) {
      return MailboxFiles.failed(what, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new LocalResult.Deferred("4.2.0", what + " interrupted while waiting for the mailbox lock");
    }
  }

  private LocalResult append(FileChannel channel, Delivery delivery, String what) throws IOException {
    long oldSize = channel.size();
    try {
      MailboxFiles.write(channel, oldSize, entry(delivery), sizeLimit);
      channel.force(true);
      return new LocalResult.Delivered("delivered to mailbox");
    } catch (IOException e) {
      channel.truncate(oldSize);
      channel.force(true);
      return MailboxFiles.failed(what, e);
    }
  }

  /** The {@code From } line, the stored message with {@code >From } quoting, and an empty line. */
  private byte[] entry(Delivery delivery) {
    var message = delivery.stored();
    var out = new ByteArrayOutputStream(message.length + 128);
    var sender = delivery.sender().isEmpty() ? "MAILER-DAEMON" : delivery.sender();
    out.writeBytes(("From " + sender + "  " + ASCTIME.format(clock.instant().atZone(clock.getZone())) + "\n")
        .getBytes(StandardCharsets.UTF_8));
    for (int start = 0; start < message.length; ) {
      int end = start;
      while (end < message.length && message[end] != '\n') end++;
      if (startsWithFrom(message, start)) out.write('>');
      out.write(message, start, Math.min(end + 1, message.length) - start);
      start = end + 1;
    }
    out.write('\n');
    return out.toByteArray();
  }

  private static boolean startsWithFrom(byte[] message, int at) {
    if (message.length - at < FROM_.length) return false;
    for (int i = 0; i < FROM_.length; i++) if (message[at + i] != FROM_[i]) return false;
    return true;
  }

  private boolean acquireDotLock(Path dotLock) throws IOException, InterruptedException {
    for (int attempt = 0; attempt < locking.attempts(); attempt++) {
      try {
        Files.createFile(dotLock, MailboxFiles.FILE_MODE);
        return true;
      } catch (FileAlreadyExistsException busy) {
        removeIfStale(dotLock);
        pause(attempt);
      }
    }
    return false;
  }

  private void removeIfStale(Path dotLock) throws IOException {
    try {
      var age = Duration.between(Files.getLastModifiedTime(dotLock).toInstant(), Instant.now());
      if (age.compareTo(locking.staleAfter()) > 0) Files.deleteIfExists(dotLock);
    } catch (NoSuchFileException gone) {
      // Released meanwhile: the next attempt takes it.
    }
  }

  private FileLock acquireKernelLock(FileChannel channel) throws IOException, InterruptedException {
    for (int attempt = 0; attempt < locking.attempts(); attempt++) {
      try {
        var lock = channel.tryLock();
        if (lock != null) return lock;
      } catch (OverlappingFileLockException heldInThisJvm) {
        // Another thread of ours holds it (after taking a stale dot-lock away): wait too.
      }
      pause(attempt);
    }
    return null;
  }

  /** Waits deliver_lock_delay between attempts, not after the last. */
  private void pause(int attempt) throws InterruptedException {
    if (attempt + 1 < locking.attempts()) Thread.sleep(locking.delay());
  }
}

package mta.delivery.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delivery into a Maildir (Postfix local's maildir.c): the message goes to
 * {@code tmp/<unique>}, is synced, then renamed into {@code new/} and the directory synced,
 * so a reader never sees a partial message and a crash leaves at most a stale file in
 * {@code tmp/}. Missing {@code tmp}, {@code new} and {@code cur} directories are created
 * (mode 0700). Unique names are {@code <seconds>.P<pid>_<sequence>.<host>}, the host with
 * {@code /} and {@code :} escaped as {@code \057} and {@code \072}. Blocking I/O: run it on
 * a dispatcher meant for that. Thread-safe.
 */
public final class MaildirDelivery {
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private final String host;
  private final long sizeLimit;
  private final Clock clock;

  /**
   * @param myhostname the host part of unique names
   * @param sizeLimit mailbox_size_limit: the largest message file in bytes, 0 for none
   * @param clock the time part of unique names
   */
  public MaildirDelivery(String myhostname, long sizeLimit, Clock clock) {
    this.host = myhostname.replace("/", "\\057").replace(":", "\\072");
    this.sizeLimit = sizeLimit;
    this.clock = clock;
  }

  /** Delivers into the Maildir at {@code maildir}. */
  public LocalResult deliver(Path maildir, Delivery delivery) {
    var tmp = maildir.resolve("tmp");
    var fresh = maildir.resolve("new");
    var name = clock.instant().getEpochSecond() + ".P" + ProcessHandle.current().pid() + "_" + SEQUENCE.incrementAndGet() + "." + host;
    var file = tmp.resolve(name);
    try {
      for (var dir : new Path[] {maildir, tmp, fresh, maildir.resolve("cur")}) Files.createDirectories(dir, MailboxFiles.DIRECTORY_MODE);
      try (var channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), MailboxFiles.FILE_MODE)) {
        MailboxFiles.write(channel, 0, delivery.stored(), sizeLimit);
        channel.force(true);
      }
      Files.move(file, fresh.resolve(name), StandardCopyOption.ATOMIC_MOVE);
      MailboxFiles.syncDirectory(fresh);
      return new LocalResult.Delivered("delivered to maildir");
    } catch (IOException e) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // A stale file in tmp/ is harmless: readers never look there.
      }
      return MailboxFiles.failed("maildir delivery failed: " + maildir + ":", e);
    }
  }
}

package mta.delivery.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * What the mailbox writers share: private file modes, size-limited writes, directory syncs,
 * and the one error policy that turns an I/O failure into a deferral or a bounce (after
 * Postfix's mbox_dsn: a full file system defers with 4.3.1, a full mailbox or quota bounces
 * with 5.2.2, anything else defers with 4.3.0).
 */
final class MailboxFiles {
  private MailboxFiles() {}

  static final FileAttribute<Set<PosixFilePermission>> FILE_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  static final FileAttribute<Set<PosixFilePermission>> DIRECTORY_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  /** A write that would take the file past mailbox_size_limit (Postfix: EFBIG from setrlimit). */
  static final class FileTooLarge extends IOException {
    FileTooLarge() {
      super("File too large");
    }
  }

  /**
   * Writes {@code bytes} at {@code position}. With a {@code limit} (bytes, 0: none), the file
   * never grows past it: what fits is written, then {@link FileTooLarge} is thrown, as a
   * process under a file size limit sees it. The caller undoes the partial write.
   */
  static void write(FileChannel channel, long position, byte[] bytes, long limit) throws IOException {
    int length = limit > 0 ? (int) Math.max(0, Math.min(bytes.length, limit - position)) : bytes.length;
    var buffer = ByteBuffer.wrap(bytes, 0, length);
    long at = position;
    while (buffer.hasRemaining()) at += channel.write(buffer, at);
    if (length < bytes.length) throw new FileTooLarge();
  }

  /** Makes a rename or a new file in {@code directory} durable. */
  static void syncDirectory(Path directory) throws IOException {
    try (var dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  /** The error policy: {@code what} says which mailbox for whom, e.g. {@code cannot update mailbox /var/mail/bob for user bob.} */
  static LocalResult failed(String what, IOException e) {
    var message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    var reason = what + " error writing message: " + message;
    if (e instanceof FileTooLarge || message.contains("Disk quota exceeded")) return new LocalResult.Bounced("5.2.2", reason);
    if (message.contains("No space left on device")) return new LocalResult.Deferred("4.3.1", reason);
    return new LocalResult.Deferred("4.3.0", reason);
  }
}

package mta.delivery.local;

import java.nio.file.Path;

/** Where a user's mail goes: a Maildir directory or an mbox file. */
public sealed interface Mailbox {

  Path path();

  record Maildir(Path path) implements Mailbox {}

  record Mbox(Path path) implements Mailbox {}

  /** Postfix's rule: a path that ends in {@code /} is a Maildir, any other an mbox file. */
  static Mailbox of(String path) {
    return path.endsWith("/") ? new Maildir(Path.of(path)) : new Mbox(Path.of(path));
  }
}

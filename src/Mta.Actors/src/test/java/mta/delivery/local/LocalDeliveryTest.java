package mta.delivery.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** local(8) end to end on real directories: aliases, users, mailboxes, files, loops. */
class LocalDeliveryTest {
  private static final byte[] MESSAGE = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final Set<String> USERS = Set.of("alice", "bob", "carol");

  @TempDir Path dir;
  private Path spool;
  private Path homes;
  private LocalDelivery local;

  @BeforeEach
  void setUp() {
    spool = dir.resolve("spool");
    homes = dir.resolve("home");
    local = delivery(new MailboxLocation(spool.toString(), ""), """
        postmaster: alice
        team: alice, bob@mx.test, friend@elsewhere.test
        archive: carol, %s
        broken: alice, %s
        script: alice, "|/bin/cat"
        ghost: nobody
        """.formatted(dir.resolve("archive.mbox"), dir.resolve("not-a-dir/sub/")));
  }

  private LocalDelivery delivery(MailboxLocation location, String aliases) {
    LocalUsers users = user -> USERS.contains(user) ? Optional.of(homes.resolve(user)) : Optional.empty();
    var clock = Clock.systemUTC();
    return new LocalDelivery(Aliases.parse(aliases, "test"), users, location, new MaildirDelivery("mx.test", 0, clock),
        new MboxDelivery(0, MboxDelivery.Locking.POSTFIX, clock), Set.of("mx.test"), "+");
  }

  @Test
  void aUserGetsTheMailInTheSpoolMbox() throws IOException {
    assertEquals(new LocalResult.Delivered("delivered to mailbox"), local.deliver("zed@example.org", "Bob+News@mx.test", MESSAGE));
    var mbox = Files.readString(spool.resolve("bob"));
    assertTrue(mbox.startsWith("From zed@example.org  "), mbox);
    assertTrue(mbox.contains("\nReturn-Path: <zed@example.org>\nX-Original-To: Bob+News@mx.test\nDelivered-To: bob@mx.test\nSubject: hi\n"), mbox);
  }

  @Test
  void aSpoolEndingInSlashMeansMaildirs() throws IOException {
    var maildirs = delivery(new MailboxLocation(spool + "/", ""), "");
    assertEquals(new LocalResult.Delivered("delivered to maildir"), maildirs.deliver("zed@example.org", "carol@mx.test", MESSAGE));
    assertEquals(1, count(spool.resolve("carol/new")));
  }

  @Test
  void homeMailboxWinsOverTheSpool() throws IOException {
    var home = delivery(new MailboxLocation(spool.toString(), "Maildir/"), "");
    assertEquals(new LocalResult.Delivered("delivered to maildir"), home.deliver("zed@example.org", "alice@mx.test", MESSAGE));
    assertEquals(1, count(homes.resolve("alice/Maildir/new")));
    assertFalse(Files.exists(spool));
  }

  @Test
  void anUnknownUserBounces() {
    assertEquals(new LocalResult.Bounced("5.1.1", "unknown user: \"nobody\""), local.deliver("zed@example.org", "ghost@mx.test", MESSAGE));
    assertEquals(new LocalResult.Bounced("5.1.1", "unknown user: \"zoe\""), local.deliver("zed@example.org", "zoe@mx.test", MESSAGE));
  }

  @Test
  void anAliasDeliversLocallyAndForwardsTheRest() throws IOException {
    assertEquals(new LocalResult.Forwarded(java.util.List.of("friend@elsewhere.test"), "delivered to mailbox"),
        local.deliver("zed@example.org", "team@mx.test", MESSAGE));
    assertTrue(Files.readString(spool.resolve("alice")).contains("X-Original-To: team@mx.test\nDelivered-To: alice@mx.test\n"));
    assertTrue(Files.readString(spool.resolve("bob")).contains("Delivered-To: bob@mx.test\n"));
  }

  @Test
  void anAliasMayAppendToAFile() throws IOException {
    assertEquals(new LocalResult.Delivered("delivered to mailbox; delivered to file: " + dir.resolve("archive.mbox")),
        local.deliver("zed@example.org", "archive@mx.test", MESSAGE));
    assertTrue(Files.readString(dir.resolve("archive.mbox")).contains("Delivered-To: archive@mx.test\n"));
  }

  @Test
  void aDeferredMemberDefersTheWholeAlias() throws IOException {
    Files.writeString(dir.resolve("not-a-dir"), "a plain file");
    var result = local.deliver("zed@example.org", "broken@mx.test", MESSAGE);
    assertEquals("4.3.0", ((LocalResult.Deferred) result).dsn());
  }

  @Test
  void commandsFromAliasesAreRestricted() {
    assertEquals(new LocalResult.Bounced("5.7.1", "mail to command is restricted: |/bin/cat"),
        local.deliver("zed@example.org", "script@mx.test", MESSAGE));
  }

  @Test
  void aMessageThatWasDeliveredHereBeforeIsALoop() throws IOException {
    var looped = ("Delivered-To: someone@else.test\r\ndelivered-to: Team@mx.test\r\nSubject: again\r\n\r\nbody\r\n").getBytes();
    assertEquals(new LocalResult.Bounced("5.4.6", "mail forwarding loop for team@mx.test"), local.deliver("zed@example.org", "team@mx.test", looped));
    var viaAlias = "Delivered-To: alice@mx.test\r\n\r\nbody\r\n".getBytes();
    assertEquals(new LocalResult.Bounced("5.4.6", "mail forwarding loop for alice@mx.test"), local.deliver("zed@example.org", "postmaster@mx.test", viaAlias));
    var inTheBody = "Subject: x\r\n\r\nDelivered-To: bob@mx.test\r\n".getBytes();
    assertEquals(new LocalResult.Delivered("delivered to mailbox"), local.deliver("zed@example.org", "bob@mx.test", inTheBody));
  }

  @Test
  void mailboxLocationFollowsPostfixsRule() {
    var home = Path.of("/home/bob");
    assertEquals(new Mailbox.Mbox(Path.of("/var/mail/bob")), new MailboxLocation("/var/mail", "").of("bob", home));
    assertEquals(new Mailbox.Maildir(Path.of("/var/mail/bob")), new MailboxLocation("/var/mail/", "").of("bob", home));
    assertEquals(new Mailbox.Maildir(Path.of("/home/bob/Maildir")), new MailboxLocation("/var/mail", "Maildir/").of("bob", home));
    assertEquals(new Mailbox.Mbox(Path.of("/home/bob/Mailbox")), new MailboxLocation("/var/mail/", "Mailbox").of("bob", home));
  }

  private static long count(Path directory) throws IOException {
    try (Stream<Path> s = Files.list(directory)) {
      return s.count();
    }
  }
}

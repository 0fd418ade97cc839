package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Final delivery to local Maildirs: mydestination holds local.test, mail_spool_directory ends
 * in "/" (Maildir), alias_maps is an aliases(5) file, local_recipient_maps lists the users.
 * The messages land as files in SPOOL/user/new/ (nothing left in tmp/), an alias reaches
 * each of its two members, postmaster exists without being listed, and an unknown user is
 * refused at RCPT with 550 5.1.1 (smtpd_reject_unlisted_recipient) and never queued.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DeliveryMaildirTest extends SystemTestSupport {

  private Path spool;
  private NodeProcess node;

  private void startNode(List<String> localRecipientMaps, String users) throws IOException {
    spool = dir.resolve("mail");
    Path aliases = dir.resolve("aliases");
    Files.writeString(aliases, """
        # aliases(5)
        team:       alice,
                    bob@local.test
        """);
    Path usersFile = dir.resolve("users");
    Files.writeString(usersFile, users);
    node = startNode(node("local")
        .set("mta.mydestination", List.of("$myhostname", "localhost", "local.test"))
        .set("mta.mail_spool_directory", spool + "/")
        .set("mta.alias_maps", List.of("hash:" + aliases))
        .set("mta.local_recipient_maps", localRecipientMaps.stream()
            .map(m -> m.replace("USERS", usersFile.toString()).replace("ALIASES", aliases.toString())).toList())
        .set("mta.management.listen", "127.0.0.1:" + Ports.free()));
  }

  @Test
  void maildirDeliveryAliasesPostmasterAndUnknownUsers() throws IOException {
    startNode(List.of("texthash:USERS"), "alice   x\nbob     x\nteam    x\n");

    String toAlice = uniqueId("alice");
    String toTeam = uniqueId("team");
    String toPostmaster = uniqueId("postmaster");
    Swaks.Result a = Swaks.to(node.smtpPort(), "alice@local.test").messageId(toAlice).run();
    Swaks.Result t = Swaks.to(node.smtpPort(), "team@local.test").messageId(toTeam).run();
    Swaks.Result p = Swaks.to(node.smtpPort(), "postmaster@local.test").messageId(toPostmaster).run();
    for (Swaks.Result r : List.of(a, t, p)) assertTrue(r.accepted(), r::toString);

    // Unknown user: refused at RCPT, as Postfix's smtpd_reject_unlisted_recipient does.
    Swaks.Result unknown = Swaks.to(node.smtpPort(), "nobody@local.test").messageId(uniqueId("nobody")).run();
    System.out.println("[DeliveryMaildirTest] unknown user: " + unknown.replies());
    assertEquals(24, unknown.exitCode(), () -> "swaks: no RCPT accepted\n" + unknown);
    assertTrue(unknown.hasReply("^550 5\\.1\\.1 <nobody@local\\.test>: Recipient address rejected: User unknown in local recipient table"),
        unknown::toString);

    node.awaitLog(Pattern.quote(a.queueId()) + ": to=<alice@local\\.test>, relay=local, .*status=sent", DELIVERY);
    node.awaitLog(Pattern.quote(t.queueId()) + ": to=<team@local\\.test>, relay=local, .*status=sent", DELIVERY);
    node.awaitLog(Pattern.quote(p.queueId()) + ": to=<postmaster@local\\.test>, relay=local, .*status=sent", DELIVERY);

    List<String> alice = maildir("alice");
    List<String> bob = maildir("bob");
    List<String> postmaster = maildir("postmaster");
    System.out.printf("[DeliveryMaildirTest] files in new/: alice=%d bob=%d postmaster=%d%n", alice.size(), bob.size(), postmaster.size());
    assertEquals(2, alice.size(), "alice: her own message and the team's");
    assertEquals(1, bob.size(), "bob: the team's");
    assertEquals(1, postmaster.size(), "postmaster exists without being listed");
    assertEquals(1, alice.stream().filter(m -> m.contains(toAlice)).count());
    assertEquals(1, alice.stream().filter(m -> m.contains(toTeam)).count());
    assertTrue(bob.get(0).contains(toTeam));
    assertTrue(postmaster.get(0).contains(toPostmaster));

    String own = alice.stream().filter(m -> m.contains(toAlice)).findFirst().orElseThrow();
    assertTrue(own.startsWith("Return-Path: <sender@client.test>\n"), () -> "Return-Path first, Unix line ends:\n" + own);
    assertTrue(own.contains("\nDelivered-To: alice@local.test\n"), own);
    assertTrue(!own.contains("\r\n"), "Unix line endings in a Maildir file");
    String bobsTeam = bob.get(0);
    assertTrue(bobsTeam.contains("\nX-Original-To: team@local.test\n") && bobsTeam.contains("\nDelivered-To: bob@local.test\n"),
        () -> "the alias member's copy says where it came from:\n" + bobsTeam);

    assertTrue(!Files.exists(spool.resolve("nobody")), "no mailbox for the refused user");
    for (String user : List.of("alice", "bob", "postmaster")) {
      assertEquals(0, files(spool.resolve(user).resolve("tmp")).size(), user + ": nothing left in tmp/");
      assertTrue(Files.isDirectory(spool.resolve(user).resolve("cur")), user + ": cur/ exists");
    }
    holdsFor(Duration.ofSeconds(1), () -> maildir("alice").size() == 2 && maildir("bob").size() == 1, "one copy each");
  }

  /**
   * Postfix's default is local_recipient_maps = unix:passwd.byname $alias_maps: the names an
   * aliases(5) file defines are valid recipients. Here the same "hash:FILE" that alias_maps
   * reads is listed in local_recipient_maps.
   */
  @Test
  void aliasNamesAreLocalRecipientsWhenAliasMapsIsListed() throws IOException {
    startNode(List.of("texthash:USERS", "hash:ALIASES"), "alice   x\nbob     x\n");
    String toTeam = uniqueId("team");
    Swaks.Result t = Swaks.to(node.smtpPort(), "team@local.test").messageId(toTeam).run();
    System.out.println("[DeliveryMaildirTest] team@ with local_recipient_maps = users + alias file: " + t.replies());
    assertTrue(t.accepted(), () -> "an alias name is a local recipient\n" + t);
    node.awaitLog(Pattern.quote(t.queueId()) + ": to=<team@local\\.test>, relay=local, .*status=sent", DELIVERY);
    assertEquals(1, maildir("alice").size());
    assertEquals(1, maildir("bob").size());
  }

  /** The messages in SPOOL/user/new/. */
  private List<String> maildir(String user) {
    return files(spool.resolve(user).resolve("new")).stream().map(f -> {
      try {
        return Files.readString(f, StandardCharsets.ISO_8859_1);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).toList();
  }

  private static List<Path> files(Path d) {
    if (!Files.isDirectory(d)) return List.of();
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

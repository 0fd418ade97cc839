package mta.delivery.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import mta.delivery.local.Aliases.Expansion;
import mta.delivery.local.Aliases.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AliasesTest {
  private static final Set<String> LOCAL = Set.of("mx.test", "Example.TEST");

  private static final String FILE = """
      # System aliases
      MAILER-DAEMON: postmaster
      postmaster: root

        # an indented comment does not continue anything
      root: alice,
      \tbob@mx.test,
        carol@elsewhere.test
      staff: "|/usr/bin/logger -t mail, with a comma", /var/log/mail.archive, /srv/mail/staff/
      "Quoted Name": <dave@elsewhere.test>
      self: self, self@elsewhere.test
      a: b
      b: a, extra
      lists: listmaster
      this line has no colon
      postmaster: ignored-duplicate
      """;

  private final Aliases aliases = Aliases.parse(FILE, "test-aliases");

  private Expansion expand(String name) throws IOException {
    return aliases.expand(name, LOCAL, "+");
  }

  @Test
  void parsesEntriesWithContinuationsCommentsAndQuotes() {
    assertEquals(Optional.of(List.of(new Target.Address("postmaster"))), aliases.lookup("mailer-daemon"));
    assertEquals(Optional.of(List.of(new Target.Address("alice"), new Target.Address("bob@mx.test"),
        new Target.Address("carol@elsewhere.test"))), aliases.lookup("ROOT"));
    assertEquals(Optional.of(List.of(new Target.Command("/usr/bin/logger -t mail, with a comma"),
        new Target.File("/var/log/mail.archive"), new Target.File("/srv/mail/staff/"))), aliases.lookup("staff"));
    assertEquals(Optional.of(List.of(new Target.Address("dave@elsewhere.test"))), aliases.lookup("quoted name"));
  }

  @Test
  void theFirstOfTwoEntriesCountsAndMalformedLinesAreSkipped() {
    assertEquals(Optional.of(List.of(new Target.Address("root"))), aliases.lookup("postmaster"));
    assertEquals(Optional.empty(), aliases.lookup("this line has no colon"));
    assertEquals(Optional.empty(), aliases.lookup("nobody"));
  }

  @Test
  void expansionFollowsLocalAddressesAndForwardsTheRest() throws IOException {
    assertEquals(new Expansion(List.of("alice", "bob"), List.of("carol@elsewhere.test"), List.of(), List.of()), expand("MAILER-DAEMON"));
  }

  @Test
  void aNameWithoutAliasIsItsOwnMailbox() throws IOException {
    assertEquals(new Expansion(List.of("zoe"), List.of(), List.of(), List.of()), expand("Zoe"));
  }

  @Test
  void filesAndCommandsAreReturnedAsSuch() throws IOException {
    assertEquals(new Expansion(List.of(), List.of(), List.of("/var/log/mail.archive", "/srv/mail/staff/"),
        List.of("/usr/bin/logger -t mail, with a comma")), expand("staff"));
  }

  @Test
  void anAliasNamingItselfDeliversToItsOwnMailbox() throws IOException {
    assertEquals(new Expansion(List.of("self"), List.of("self@elsewhere.test"), List.of(), List.of()), expand("self"));
  }

  @Test
  void aLoopEndsAtTheNameSeenAgain() throws IOException {
    assertEquals(new Expansion(List.of("a", "extra"), List.of(), List.of(), List.of()), expand("a"));
  }

  @Test
  void anExtensionFallsBackToTheBaseEntry() throws IOException {
    assertEquals(new Expansion(List.of("listmaster"), List.of(), List.of(), List.of()), expand("lists+announce"));
    assertEquals(new Expansion(List.of("zoe"), List.of(), List.of(), List.of()), expand("zoe+news"));
    assertEquals(new Expansion(List.of("lists+announce"), List.of(), List.of(), List.of()),
        aliases.expand("lists+announce", LOCAL, ""));
  }

  @Test
  void includeFilesAreReadWhenExpanding(@TempDir Path dir) throws IOException {
    var members = dir.resolve("members");
    Files.writeString(members, "# team\nalice, bob@Example.Test\n\"|/bin/true\"\nfriend@elsewhere.test\n:include:" + members + "\n");
    var table = Aliases.parse("team: :include:" + members + ", team-archive\n", "inline");
    assertEquals(new Expansion(List.of("alice", "bob", "team-archive"), List.of("friend@elsewhere.test"), List.of(), List.of("/bin/true")),
        table.expand("team", LOCAL, "+"));
  }

  @Test
  void aMissingIncludeFileIsAnError(@TempDir Path dir) {
    var table = Aliases.parse("team: :include:" + dir.resolve("gone") + "\n", "inline");
    assertThrows(NoSuchFileException.class, () -> table.expand("team", LOCAL, "+"));
  }

  @Test
  void readsAFile(@TempDir Path dir) throws IOException {
    var file = dir.resolve("aliases");
    Files.writeString(file, "root: alice\r\n");
    assertEquals(Optional.of(List.of(new Target.Address("alice"))), Aliases.read(file).lookup("root"));
    assertTrue(Aliases.empty().lookup("root").isEmpty());
  }
}

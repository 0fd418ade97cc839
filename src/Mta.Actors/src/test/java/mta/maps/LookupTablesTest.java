package mta.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import mta.config.ConfigError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import mta.LogCapture;
import org.junit.jupiter.api.io.TempDir;

/** Every file-less and file-based table type, with real files: reloads, malformed lines, flags. */
class LookupTablesTest {

  @TempDir
  Path dir;

  @RegisterExtension
  final LogCapture logged = new LogCapture("dict");

  private Path file(String name, String text) throws IOException {
    var path = dir.resolve(name);
    Files.writeString(path, text);
    return path;
  }

  /** Rewrites a file so that a reload notices, whatever the file system's clock resolution. */
  private static void rewrite(Path path, String text) throws IOException {
    var before = Files.getLastModifiedTime(path).toInstant();
    Files.writeString(path, text);
    Files.setLastModifiedTime(path, FileTime.from(before.plusSeconds(5)));
  }

  private static Optional<String> get(LookupTable table, String key) {
    return table.get(key);
  }

  // --- texthash -----------------------------------------------------------------------------

  @Test
  void texthashFoldsKeysAndJoinsContinuationLines() throws IOException {
    var path = file("access", """
        # comment
        Example.COM     REJECT no thanks
        user@example.net  OK

        long.example    550 5.7.1 this text
          goes on here
        """);
    var table = Maps.table("texthash:" + path);
    assertEquals(Optional.of("REJECT no thanks"), get(table, "example.com"));
    assertEquals(Optional.of("OK"), get(table, "USER@Example.Net"));
    assertEquals(Optional.of("550 5.7.1 this text goes on here"), get(table, "long.example"));
    assertEquals(Optional.empty(), get(table, "other.example"));
    assertTrue(table.fixed());
  }

  @Test
  void hashIsTheSameSourceFile() throws IOException {
    var path = file("transport", "example.com smtp:[192.0.2.1]\n");
    assertEquals(Optional.of("smtp:[192.0.2.1]"), get(Maps.table("hash:" + path), "example.com"));
  }

  @Test
  void texthashReloadsWhenTheFileChanges() throws IOException {
    var path = file("reloading", "a 1\n");
    var table = Maps.table("texthash:" + path);
    assertEquals(Optional.of("1"), get(table, "a"));
    rewrite(path, "a 2\nb 3\n");
    assertEquals(Optional.of("2"), get(table, "a"));
    assertEquals(Optional.of("3"), get(table, "b"));
  }

  @Test
  void malformedLineStopsTheStartWithFileAndLine() throws IOException {
    var path = file("broken", "good value\nlonely\n");
    var e = assertThrows(ConfigError.class, () -> Maps.table("texthash:" + path));
    assertEquals(path + ", line 2: expected 'key value', got 'lonely'", e.getMessage());
  }

  @Test
  void malformedReloadKeepsTheLastGoodTable() throws IOException {
    var path = file("lastgood", "a 1\n");
    var table = Maps.table("texthash:" + path);
    rewrite(path, "a 2\nbroken\n");
    assertEquals(Optional.of("1"), get(table, "a"));
    assertTrue(logged.lines().stream().anyMatch(e -> e.contains("keeping the last good table")
        && e.contains(path + ", line 2")), "warned with file and line");
    rewrite(path, "a 3\n");
    assertEquals(Optional.of("3"), get(table, "a"));
  }

  @Test
  void missingFileAndUnknownTypeAreConfigErrors() {
    assertThrows(ConfigError.class, () -> Maps.table("texthash:" + dir.resolve("absent")));
    assertThrows(ConfigError.class, () -> Maps.table("btree:/etc/postfix/x"));
    assertThrows(ConfigError.class, () -> Maps.table("no-colon"));
  }

  @Test
  void aliasesFileLinesAreKeysWithoutTheirColon() throws IOException {
    var table = Maps.table("hash:" + file("aliases", "# aliases(5)\npostmaster: root\nteam: alice, bob\n"));
    assertEquals(Optional.of("alice, bob"), table.get("team"));
    assertEquals(Optional.of("root"), table.get("Postmaster"));
  }

  @Test
  void sameSpecIsOneTable() throws IOException {
    var spec = "texthash:" + file("shared", "a 1\n");
    assertTrue(Maps.table(spec) == Maps.table(spec));
  }

  // --- regexp and pcre ----------------------------------------------------------------------

  @Test
  void regexpFirstMatchWinsCaseInsensitiveByDefault() throws IOException {
    var table = Maps.table("regexp:" + file("re", """
        /^Subject: .*viagra/      REJECT no pills
        /^Subject: Hello/i        WARN exact case
        /^From: (.*)@(.*)$/       PREPEND X-From-Domain: $2 (${1})
        !/@example\\.com$/        DUNNO not ours
        /./                       OK
        """));
    assertEquals(Optional.of("REJECT no pills"), get(table, "Subject: buy VIAGRA now"));
    assertEquals(Optional.of("WARN exact case"), get(table, "Subject: Hello"));
    assertEquals(Optional.of("DUNNO not ours"), get(table, "subject: hello"));
    assertEquals(Optional.of("PREPEND X-From-Domain: example.org (joe)"), get(table, "From: joe@example.org"));
    assertEquals(Optional.of("OK"), get(table, "root@example.com"));
    assertFalse(table.fixed());
  }

  @Test
  void ifEndifBlocksNest() throws IOException {
    var table = Maps.table("pcre:" + file("nested", """
        if /@example\\.com$/
        /^admin@/         OK
        if !/^bob/
        /./               REJECT not bob
        endif
        endif
        /^bob@example\\.org$/  DISCARD outside
        """));
    assertEquals(Optional.of("OK"), get(table, "admin@example.com"));
    assertEquals(Optional.of("REJECT not bob"), get(table, "carol@example.com"));
    assertEquals(Optional.empty(), get(table, "bob@example.com"));
    assertEquals(Optional.of("DISCARD outside"), get(table, "bob@example.org"));
  }

  @Test
  void pcreFlagsAndDelimiters() throws IOException {
    var table = Maps.table("pcre:" + file("flags", """
        |^a.b$|s            dotall
        /^x # comment
          y$/x              extended
        /^Multi$/m          multi-line
        /start/A            anchored
        """));
    assertEquals(Optional.of("dotall"), get(table, "a\nb"));
    assertEquals(Optional.of("extended"), get(table, "xy"));
    assertEquals(Optional.of("multi-line"), get(table, "first\nMulti\nlast"));
    assertEquals(Optional.of("anchored"), get(table, "start here"));
    assertEquals(Optional.empty(), get(table, "not start"));
  }

  @Test
  void malformedPatternLinesNameFileAndLine() throws IOException {
    record Case(String text, String message) {}
    for (var c : List.of(
        new Case("/unterminated  REJECT\n", "line 1: missing closing delimiter"),
        new Case("/ok/ OK\n/(/ REJECT\n", "line 2: bad regular expression"),
        new Case("/a/q OK\n", "line 1: unknown or unsupported regexp option 'q'"),
        new Case("/a/\n", "line 1: no replacement text"),
        new Case("/(a)/ $2\n", "line 1: out of range substitution $2"),
        new Case("if /a/\n/b/ OK\n", "IF has no matching ENDIF"),
        new Case("endif\n", "line 1: ignoring ENDIF without matching IF"),
        new Case("abc OK\n", "line 1: regular expression must start with a delimiter"))) {
      var path = file("bad" + Math.abs(c.text().hashCode()), c.text());
      var e = assertThrows(ConfigError.class, () -> Maps.table("regexp:" + path), c.text());
      assertTrue(e.getMessage().startsWith(path.toString()) && e.getMessage().contains(c.message()), e.getMessage());
    }
  }

  @Test
  void regexpReloads() throws IOException {
    var path = file("rereload", "/a/ one\n");
    var table = Maps.table("regexp:" + path);
    rewrite(path, "/a/ two\n");
    assertEquals(Optional.of("two"), get(table, "a"));
  }

  // --- cidr ---------------------------------------------------------------------------------

  @Test
  void cidrMatchesAddressesInFileOrder() throws IOException {
    var table = Maps.table("cidr:" + file("clients", """
        192.0.2.7           OK
        192.0.2.0/24        REJECT
        [2001:db8::]/32     DEFER
        !10.0.0.0/8         DUNNO
        if 10.0.0.0/8
        10.1.0.0/16         HOLD
        endif
        """));
    assertEquals(Optional.of("OK"), get(table, "192.0.2.7"));
    assertEquals(Optional.of("REJECT"), get(table, "192.0.2.8"));
    assertEquals(Optional.of("DEFER"), get(table, "2001:db8::1"));
    assertEquals(Optional.of("HOLD"), get(table, "10.1.2.3"));
    assertEquals(Optional.empty(), get(table, "10.2.0.1"));
    assertEquals(Optional.of("DUNNO"), get(table, "198.51.100.1"));
    assertEquals(Optional.of("DUNNO"), get(table, "not-an-address"));
  }

  @Test
  void cidrRefusesNonNullHostBits() throws IOException {
    var path = file("badcidr", "10.1.2.3/8 OK\n");
    var e = assertThrows(ConfigError.class, () -> Maps.table("cidr:" + path));
    assertEquals(path + ", line 1: non-null host address bits in 10.1.2.3/8", e.getMessage());
  }

  // --- inline and static --------------------------------------------------------------------

  @Test
  void inlineTable() {
    var table = Maps.table("inline:{ Example.com=OK, { spam.example = REJECT }, { key = text with, comma } }");
    assertEquals(Optional.of("OK"), get(table, "example.COM"));
    assertEquals(Optional.of("REJECT"), get(table, "spam.example"));
    assertEquals(Optional.of("text with, comma"), get(table, "key"));
    assertEquals(Optional.empty(), get(table, "other"));
    assertThrows(ConfigError.class, () -> Maps.table("inline:a=b"));
    assertThrows(ConfigError.class, () -> Maps.table("inline:{ novalue }"));
  }

  @Test
  void staticTable() {
    assertEquals(Optional.of("smtp:[192.0.2.1]"), get(Maps.table("static:smtp:[192.0.2.1]"), "anything"));
    assertEquals(Optional.of("REJECT go away"), get(Maps.table("static:{ REJECT go away }"), "x"));
  }

  // --- lists --------------------------------------------------------------------------------

  @Test
  void listTriesEveryTableForAKeyBeforeTheNextKey() {
    var maps = Maps.open("test_maps", List.of("inline:{ example.com=domain }", "inline:{ user@example.com=user }"));
    var found = maps.search(List.of(Maps.Key.full("user@example.com"), Maps.Key.partial("example.com"))).orElseThrow();
    assertEquals("user", found.value());
  }

  @Test
  void partialKeysSkipPatternTables() throws IOException {
    var maps = Maps.open("test_maps", List.of("regexp:" + file("any", "/example/ pattern\n")));
    assertEquals(Optional.empty(), maps.search(List.of(Maps.Key.partial("example.com"))));
    assertEquals("pattern", maps.search(List.of(Maps.Key.full("user@example.com"))).orElseThrow().value());
  }

  @Test
  void splitKeepsBracesWhole() {
    assertEquals(List.of("a", "b", "inline:{ x=1, y=2 }", "c"), Maps.split(" a,b  inline:{ x=1, y=2 }, c "));
  }

  @Test
  void lastModifiedIsEnoughWhateverTheClock() throws IOException {
    var path = file("clock", "a 1\n");
    var table = Maps.table("texthash:" + path);
    Files.writeString(path, "a 22\n"); // a different size is seen even within the same tick
    assertEquals(Optional.of("22"), get(table, "a"));
    Files.setLastModifiedTime(path, FileTime.from(Instant.now().plusSeconds(60)));
    assertEquals(Optional.of("22"), get(table, "a"));
  }
}

package mta.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.UUID;
import mta.config.ConfigError;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sql:} against the real PostgreSQL on 127.0.0.1:5432 (database test, user postgres):
 * a table of its own, created for this run and dropped after it, queried the way the seed
 * documents' pgsql example does ({@code %u}, {@code %d}).
 */
class SqlTableTest {
  private static final String URL = "jdbc:postgresql://127.0.0.1:5432/test";
  private static final String TABLE = "mta_sqltable_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

  @TempDir
  Path dir;

  @BeforeAll
  static void createTable() throws SQLException {
    try (var c = DriverManager.getConnection(URL, "postgres", ""); var s = c.createStatement()) {
      s.execute("CREATE TABLE " + TABLE + " (userid text, domain text, destination text, active boolean)");
      s.execute("INSERT INTO " + TABLE + " VALUES "
          + "('alice', 'example.com', 'alice@mail.example.com', true), "
          + "('list', 'example.com', 'a@x.example', true), ('list', 'example.com', 'b@x.example', true), "
          + "('gone', 'example.com', 'gone@elsewhere.example', false), "
          + "('o''brien', 'example.com', 'ob@mail.example.com', true)");
    }
  }

  @AfterAll
  static void dropTable() throws SQLException {
    try (var c = DriverManager.getConnection(URL, "postgres", ""); var s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + TABLE);
    }
  }

  private LookupTable table(String name, String settings) throws IOException {
    var file = dir.resolve(name);
    Files.writeString(file, settings);
    return Maps.table("sql:" + file);
  }

  @Test
  void pgsqlStyleSettingsAndQuery() throws IOException {
    var t = table("virtual.cf", """
        # as in pgsql_table(5)
        hosts = 127.0.0.1:5432
        dbname = test
        user = postgres
        password =
        query = SELECT destination FROM %s WHERE userid = '%%u' AND domain = '%%d'
          AND active
        """.formatted(TABLE));
    assertEquals(Optional.of("alice@mail.example.com"), t.get("Alice@Example.COM"));
    assertEquals(Optional.of("a@x.example,b@x.example"), t.get("list@example.com"));
    assertEquals(Optional.empty(), t.get("gone@example.com"));
    assertEquals(Optional.empty(), t.get("nobody@example.com"));
    // %d of a key without a domain: no query at all.
    assertEquals(Optional.empty(), t.get("alice"));
  }

  @Test
  void keysAreParametersNotSql() throws IOException {
    var t = table("inject.cf", """
        jdbc_url = %s
        user = postgres
        query = SELECT destination FROM %s WHERE userid || '@' || domain = '%%s'
        """.formatted(URL, TABLE));
    assertEquals(Optional.of("ob@mail.example.com"), t.get("o'brien@example.com"));
    assertEquals(Optional.empty(), t.get("x' OR '1'='1"));
  }

  @Test
  void resultFormatAndDomainFilter() throws IOException {
    var t = table("format.cf", """
        jdbc_url = %s
        user = postgres
        domain = example.com
        result_format = smtp:[%%d]
        query = SELECT destination FROM %s WHERE userid = '%%u'
        """.formatted(URL, TABLE));
    assertEquals(Optional.of("smtp:[mail.example.com]"), t.get("alice@example.com"));
    assertEquals(Optional.empty(), t.get("alice@other.example"));
  }

  @Test
  void unreachableDatabaseIsALookupFailureNotAMiss() throws IOException {
    int closedPort;
    try (var socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    var t = table("down.cf", """
        jdbc_url = jdbc:postgresql://127.0.0.1:%d/test
        user = postgres
        timeout = 1
        query = SELECT 1 WHERE '%%s' = ''
        """.formatted(closedPort));
    var e = assertThrows(LookupFailure.class, () -> t.get("anyone@example.com"));
    assertTrue(e.getMessage().startsWith("sql:"), e.getMessage());
  }

  @Test
  void brokenSettingsStopTheStart() throws IOException {
    var missing = dir.resolve("noquery.cf");
    Files.writeString(missing, "hosts = 127.0.0.1\ndbname = test\n");
    assertThrows(ConfigError.class, () -> Maps.table("sql:" + missing));
    var unknown = dir.resolve("unknown.cf");
    Files.writeString(unknown, "jdbc_url = " + URL + "\nquery = SELECT 1\ncolour = blue\n");
    var e = assertThrows(ConfigError.class, () -> Maps.table("sql:" + unknown));
    assertEquals(unknown + ", line 3: unknown setting 'colour'", e.getMessage());
    var badExpansion = dir.resolve("expansion.cf");
    Files.writeString(badExpansion, "jdbc_url = " + URL + "\nquery = SELECT '%x'\n");
    assertThrows(ConfigError.class, () -> Maps.table("sql:" + badExpansion));
  }

  @Test
  void changedFileIsUsedAtTheNextLookup() throws IOException {
    var file = dir.resolve("reload.cf");
    Files.writeString(file, "jdbc_url = " + URL + "\nuser = postgres\nquery = SELECT 'first' WHERE '%s' <> ''\n");
    var t = Maps.table("sql:" + file);
    assertEquals(Optional.of("first"), t.get("k"));
    var before = Files.getLastModifiedTime(file).toInstant();
    Files.writeString(file, "jdbc_url = " + URL + "\nuser = postgres\nquery = SELECT 'second' WHERE '%s' <> ''\n");
    Files.setLastModifiedTime(file, FileTime.from(before.plusSeconds(5)));
    assertEquals(Optional.of("second"), t.get("k"));
  }
}

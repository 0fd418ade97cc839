package mta.systemtest;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * The shared PostgreSQL journal at 127.0.0.1:5432 (trust auth, database test), one schema
 * per test so that tests do not see each other's journal.
 */
public final class Postgres {
  public static final String HOST = "127.0.0.1";
  public static final int PORT = 5432;
  public static final String DATABASE = "test";
  public static final String USER = "postgres";

  private Postgres() {}

  /** The node's journal url for {@code schema} at host:port (a {@link TcpProxy} port, say). */
  public static String url(String host, int port, String schema) {
    return "jdbc:postgresql://" + host + ":" + port + "/" + DATABASE + "?currentSchema=" + schema;
  }

  public static String url(String schema) {
    return url(HOST, PORT, schema);
  }

  public static Connection connect() throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + PORT + "/" + DATABASE, USER, "");
  }

  /** Drops and creates the schema (lower-cased, [a-z0-9_] only); its name. */
  public static String freshSchema(String name) {
    String schema = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      s.execute("CREATE SCHEMA " + schema);
      return schema;
    } catch (SQLException e) {
      throw new AssertionError("PostgreSQL at " + HOST + ":" + PORT + " (database " + DATABASE
          + ") is needed: " + e.getMessage(), e);
    }
  }

  /** The journal rows of Message entities in {@code schema}: 0 once the queue run removed every finished message. */
  public static long messageRows(String schema) {
    return count("SELECT count(*) FROM " + schema + ".event_journal WHERE persistence_id LIKE 'Message|%'");
  }

  /** The number of tables the node created in {@code schema}. */
  public static int tableCount(String schema) {
    return (int) count("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + schema + "'");
  }

  private static long count(String sql) {
    try (Connection c = connect(); Statement s = c.createStatement(); var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }
}

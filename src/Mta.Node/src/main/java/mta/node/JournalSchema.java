package mta.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.DriverManager;
import java.sql.SQLException;
import mta.config.MtaConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the journal's tables when they are missing (idempotent DDL from {@code hocon/schema/},
 * in one transaction under a lock, so nodes that start at once do not collide).
 * An unreachable database is not fatal: the node starts, and smtpd answers 451 4.3.0 until
 * the journal can be written.
 */
final class JournalSchema {
  private static final Logger log = LoggerFactory.getLogger("master");

  private JournalSchema() {}

  static void ensure(MtaConfig config) {
    var db = config.config().getConfig("pekko-persistence-jdbc.shared-databases.mta.db");
    try {
      create(config);
    } catch (SQLException e) {
      log.warn("warning: journal database {}: {}: mail will be refused with 451 until it is reachable", db.getString("url"), e.getMessage());
    }
  }

  /**
   * Runs the idempotent DDL and throws when the database cannot be reached or refuses it
   * ({@code bin/mta schema}: the explicit step of a deployment, e.g. a Kubernetes initContainer).
   */
  static void create(MtaConfig config) throws SQLException {
    var db = config.config().getConfig("pekko-persistence-jdbc.shared-databases.mta.db");
    var script = "schema/" + config.persistence().name().toLowerCase() + ".sql";
    try (var in = JournalSchema.class.getClassLoader().getResourceAsStream(script)) {
      if (config.persistence() == MtaConfig.Persistence.H2) Files.createDirectories(config.dataDirectory());
      var ddl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      try (var conn = DriverManager.getConnection(db.getString("url"), db.getString("user"), db.getString("password"));
           var st = conn.createStatement()) {
        // One transaction: the script's lock (PostgreSQL, SQL Server) holds until the commit,
        // so nodes starting at once create the tables one after the other.
        conn.setAutoCommit(false);
        // SQL Server batches are separated by its IF guards, the others by semicolons.
        for (var statement : ddl.replaceAll("(?m)^--.*$", "").split(config.persistence() == MtaConfig.Persistence.SQLSERVER ? "(?m)^(?=IF )" : ";")) {
          if (!statement.isBlank()) st.execute(statement);
        }
        conn.commit();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package mta.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import mta.config.MtaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes that start at once against an empty PostgreSQL (a StatefulSet's pods, a cluster after
 * a fresh install) all run the journal's DDL; none may fail for it. Needs the PostgreSQL of
 * the system tests: 127.0.0.1:5432, database test, user postgres, trust auth.
 */
class JournalSchemaTest {
  private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/test";
  private static final int NODES = 4;
  private static final int ROUNDS = 8;

  @Test
  void nodesStartingAtOnceCreateTheSchemaOnce(@TempDir Path dir) throws Exception {
    var pool = Executors.newFixedThreadPool(NODES);
    try {
      for (int round = 0; round < ROUNDS; round++) {
        var schema = "mta_ut_schema_race_" + round;
        execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema);
        var file = dir.resolve("node-" + round + ".conf");
        Files.writeString(file, "mta.persistence = postgres\n"
            + "mta.postgres { url = \"" + SERVER + "?currentSchema=" + schema + "\", user = postgres, password = \"\" }\n");
        var config = MtaConfig.load(Optional.of(file));
        var start = new CyclicBarrier(NODES);
        List<Future<?>> nodes = new ArrayList<>();
        for (int n = 0; n < NODES; n++) {
          nodes.add(pool.submit(() -> {
            start.await();
            JournalSchema.create(config);
            return null;
          }));
        }
        for (var node : nodes) node.get();
        assertEquals(3, tables(schema), "event_journal, event_tag and snapshot in " + schema);
        execute("DROP SCHEMA " + schema + " CASCADE");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void execute(String... statements) throws SQLException {
    try (var c = DriverManager.getConnection(SERVER, "postgres", ""); var st = c.createStatement()) {
      for (var s : statements) st.execute(s);
    }
  }

  private static int tables(String schema) throws SQLException {
    try (var c = DriverManager.getConnection(SERVER, "postgres", ""); var st = c.createStatement();
         var rs = st.executeQuery("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + schema + "'")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}

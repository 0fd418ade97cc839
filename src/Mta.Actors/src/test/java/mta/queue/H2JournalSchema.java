package mta.queue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.sql.SQLException;

/** The embedded journal's tables (hocon/schema/h2.sql), created as a node creates them. */
final class H2JournalSchema {
  private H2JournalSchema() {}

  static void create(String url) throws SQLException, IOException {
    try (var in = H2JournalSchema.class.getClassLoader().getResourceAsStream("schema/h2.sql");
         var conn = DriverManager.getConnection(url, "sa", ""); var st = conn.createStatement()) {
      for (var statement : new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^--.*$", "").split(";")) {
        if (!statement.isBlank()) st.execute(statement);
      }
    }
  }
}

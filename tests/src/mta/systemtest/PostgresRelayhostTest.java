package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;

/** {@link RelayhostTest} with the shared PostgreSQL journal (a fresh schema per test). */
class PostgresRelayhostTest extends RelayhostTest {
  private String schema;

  @Override
  protected NodeProcess.Builder journal(NodeProcess.Builder node) {
    schema = Postgres.freshSchema("mta_it_relayhost");
    return node.postgres(Postgres.url(schema));
  }

  @AfterEach
  void journalWasPostgres() {
    if (schema != null) {
      assertTrue(Postgres.tableCount(schema) > 0, "the node created its journal tables in schema " + schema);
    }
  }
}

package mta.queue;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The journal seen as Postfix's queue directories, in plain SQL on the pekko-persistence-jdbc
 * tables (quoted lower-case names, which H2, PostgreSQL and SQL Server all read the same way).
 *
 * <p>A message whose last event is {@link Message.Completed} is never replayed again (its
 * queue id is never reused), so all its rows go, content included, as Postfix unlinks a
 * delivered message's queue file. Every other message is in the active queue, except one
 * that sleeps in the deferred queue: its latest attempt left every open recipient waiting
 * and was tagged with the time the first falls due ({@link Message#dueTag}). A queue run
 * wakes the active ones and the deferred ones that are due; the rest stay rows in the
 * journal, not entities in memory, as Postfix's qmgr only reads the deferred queue when its
 * files are due.
 */
public final class QueueDirectory {
  private static final String DELETE_FINISHED = """
      DELETE FROM "event_journal" WHERE "persistence_id" IN (
        SELECT "persistence_id" FROM "event_journal" WHERE "event_ser_manifest" = ?)""";

  /**
   * Each message once (its event 1), unless a due tag later than now says it sleeps. A
   * message deferred again earlier than an older tag (an operator's flush) waits for the
   * older one at most: a late retry, never a lost one.
   */
  private static final String TO_WAKE = """
      SELECT j."persistence_id" FROM "event_journal" j
      WHERE j."sequence_number" = 1 AND j."persistence_id" LIKE ?
        AND NOT EXISTS (
          SELECT 1 FROM "event_journal" k JOIN "event_tag" t ON t."event_id" = k."ordering"
          WHERE k."persistence_id" = j."persistence_id" AND t."tag" > ?)""";

  /**
   * How many messages each queue holds, without waking one: on hold when a HeldMessage has
   * no later ReleasedMessage, deferred when a due tag is later than now, active otherwise.
   */
  private static final String SIZES = """
      SELECT q, COUNT(*) FROM (
        SELECT CASE
          WHEN EXISTS (SELECT 1 FROM "event_journal" h WHERE h."persistence_id" = j."persistence_id"
                AND h."event_ser_manifest" = ? AND NOT EXISTS (SELECT 1 FROM "event_journal" r
                  WHERE r."persistence_id" = j."persistence_id" AND r."event_ser_manifest" = ?
                    AND r."sequence_number" > h."sequence_number")) THEN 'hold'
          WHEN EXISTS (SELECT 1 FROM "event_journal" k JOIN "event_tag" t ON t."event_id" = k."ordering"
                WHERE k."persistence_id" = j."persistence_id" AND t."tag" > ?) THEN 'deferred'
          ELSE 'active' END AS q
        FROM "event_journal" j
        WHERE j."sequence_number" = 1 AND j."persistence_id" LIKE ?
          AND NOT EXISTS (SELECT 1 FROM "event_journal" c
            WHERE c."persistence_id" = j."persistence_id" AND c."event_ser_manifest" = ?)) m
      GROUP BY q""";

  private static final String PREFIX = Message.ENTITY_TYPE_KEY.name() + "|";

  private final Config db;
  private final Executor blocking;

  /**
   * {@code db}: the journal's connection settings ({@code shared-databases.mta.db});
   * {@code blocking}: where the queries run (JDBC blocks, actor threads must not).
   */
  public QueueDirectory(Config db, Executor blocking) {
    this.db = db;
    this.blocking = blocking;
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(db.getString("url"), db.getString("user"), db.getString("password"));
  }

  /** Deletes the rows of every finished message; completes with how many rows went. */
  CompletionStage<Integer> removeFinished() {
    return query(conn -> {
      try (var st = conn.prepareStatement(DELETE_FINISHED)) {
        st.setString(1, Message.Completed.class.getName());
        return st.executeUpdate();
      }
    });
  }

  /** Messages per queue ({@code active}, {@code deferred}, {@code hold}; a queue with none is left out). */
  public CompletionStage<Map<String, Long>> sizes(long nowMillis) {
    return query(conn -> {
      try (var st = conn.prepareStatement(SIZES)) {
        st.setString(1, Message.HeldMessage.class.getName());
        st.setString(2, Message.ReleasedMessage.class.getName());
        st.setString(3, Message.dueTag(nowMillis));
        st.setString(4, PREFIX + "%");
        st.setString(5, Message.Completed.class.getName());
        var sizes = new HashMap<String, Long>();
        try (var rows = st.executeQuery()) {
          while (rows.next()) sizes.put(rows.getString(1), rows.getLong(2));
        }
        return sizes;
      }
    });
  }

  private interface Query<T> {
    T run(Connection conn) throws SQLException;
  }

  private <T> CompletionStage<T> query(Query<T> query) {
    return CompletableFuture.supplyAsync(() -> {
      try (var conn = connect()) {
        return query.run(conn);
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }

  /** Opens a cursor over the queue ids a queue run at {@code nowMillis} wakes; read with {@link Cursor#next}. */
  Cursor toWake(long nowMillis) throws SQLException {
    var conn = connect();
    try {
      // PostgreSQL streams a result set only inside a transaction, with a fetch size.
      conn.setAutoCommit(false);
      var st = conn.prepareStatement(TO_WAKE);
      st.setFetchSize(1000);
      st.setString(1, PREFIX + "%");
      st.setString(2, Message.dueTag(nowMillis));
      return new Cursor(conn, st, st.executeQuery());
    } catch (SQLException | RuntimeException e) {
      conn.close();
      throw e;
    }
  }

  /** The queue ids of one run, read as the run goes (a large queue is never all in memory). */
  record Cursor(Connection conn, PreparedStatement statement, ResultSet rows) implements AutoCloseable {
    Optional<String> next() throws SQLException {
      return rows.next() ? Optional.of(rows.getString(1).substring(PREFIX.length())) : Optional.empty();
    }

    @Override
    public void close() throws SQLException {
      try (conn; statement; rows) {
        conn.rollback();
      }
    }
  }
}

package mta.queue;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
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
 * and was tagged with the time the first falls due ({@link Message#dueTag}). A full queue
 * run wakes the active ones and the deferred ones that are due; a due run only the deferred
 * ones whose time came since the last run. The rest stay rows in the journal, not entities
 * in memory, as Postfix's qmgr only reads the deferred queue when its files are due.
 *
 * <p>What a run reads: finished and due messages are found by their tags, through the tag
 * index, so a due run costs what falls due, not what waits; only a full run, and the
 * removal of untagged finished messages at start, read every message.
 */
public final class QueueDirectory {
  /** Finished messages, by the tag of their Completed event (an index lookup). */
  private static final String FINISHED = """
      SELECT k."persistence_id" FROM "event_journal" k
      WHERE k."ordering" IN (SELECT t."event_id" FROM "event_tag" t WHERE t."tag" = ?)""";

  /**
   * Finished messages, by the manifest of their Completed event: a read of the whole journal,
   * done once per start, for messages that completed before their Completed event was tagged.
   */
  private static final String FINISHED_UNTAGGED = """
      SELECT "persistence_id" FROM "event_journal" WHERE "event_ser_manifest" = ?""";

  /** Messages deleted per statement and transaction: half the cost of one by one (H2: 0.16 against 0.35 ms a message). */
  private static final int DELETE_CHUNK = 100;

  private static final String DELETE_MESSAGES = """
      DELETE FROM "event_journal" WHERE "persistence_id" IN (%s)""".formatted(String.join(", ", Collections.nCopies(DELETE_CHUNK, "?")));

  /**
   * Each message once (its event 1), unless a due tag later than now says it sleeps. A
   * message deferred again earlier than an older tag (an operator's flush) waits for the
   * older one at most: a late retry, never a lost one. Reads every message of the journal.
   */
  private static final String TO_WAKE = """
      SELECT j."persistence_id" FROM "event_journal" j
      WHERE j."sequence_number" = 1 AND j."persistence_id" LIKE ?
        AND NOT EXISTS (
          SELECT 1 FROM "event_journal" k JOIN "event_tag" t ON t."event_id" = k."ordering"
          WHERE k."persistence_id" = j."persistence_id" AND t."tag" > ?)""";

  /**
   * The deferred messages that fell due in a span of time: a due tag in it (a range of the
   * tag index), and none later than now. Written as IN, not as a join: H2 then reads the tag
   * index first; given the join, it read every message (3.2 s against 0.05 s at 200,000).
   * Only Message events carry due tags.
   */
  private static final String DUE = """
      SELECT DISTINCT k."persistence_id" FROM "event_journal" k
      WHERE k."ordering" IN (SELECT t."event_id" FROM "event_tag" t WHERE t."tag" > ? AND t."tag" <= ?)
        AND NOT EXISTS (
          SELECT 1 FROM "event_journal" l JOIN "event_tag" u ON u."event_id" = l."ordering"
          WHERE l."persistence_id" = k."persistence_id" AND u."tag" > ?)""";

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

  /**
   * Deletes the rows of every finished message (the tags go with them: the foreign key
   * cascades); completes with how many messages went. {@code untaggedToo}: also those whose
   * Completed event has no tag, which reads the whole journal.
   */
  CompletionStage<Integer> removeFinished(boolean untaggedToo) {
    return query(conn -> {
      var finished = new ArrayList<String>();
      try (var st = conn.prepareStatement(untaggedToo ? FINISHED_UNTAGGED : FINISHED)) {
        st.setString(1, untaggedToo ? Message.Completed.class.getName() : Message.FINISHED_TAG);
        try (var rows = st.executeQuery()) {
          while (rows.next()) finished.add(rows.getString(1));
        }
      }
      conn.setAutoCommit(false);
      try (var st = conn.prepareStatement(DELETE_MESSAGES)) {
        for (int i = 0; i < finished.size(); i += DELETE_CHUNK) {
          // A short last chunk repeats its last id: the statement keeps one shape.
          for (int j = 0; j < DELETE_CHUNK; j++) st.setString(j + 1, finished.get(Math.min(i + j, finished.size() - 1)));
          st.executeUpdate();
          conn.commit();
        }
      }
      return finished.size();
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

  /**
   * Opens a cursor over the queue ids a full queue run at {@code nowMillis} wakes: every
   * message but the ones asleep; read with {@link Cursor#next}.
   */
  Cursor toWake(long nowMillis) throws SQLException {
    return cursor(TO_WAKE, st -> {
      st.setString(1, PREFIX + "%");
      st.setString(2, Message.dueTag(nowMillis));
    });
  }

  /** Opens a cursor over the queue ids of the deferred messages that fell due after {@code sinceMillis}, up to {@code nowMillis}. */
  Cursor dueSince(long sinceMillis, long nowMillis) throws SQLException {
    return cursor(DUE, st -> {
      st.setString(1, Message.dueTag(sinceMillis));
      st.setString(2, Message.dueTag(nowMillis));
      st.setString(3, Message.dueTag(nowMillis));
    });
  }

  private interface Parameters {
    void set(PreparedStatement st) throws SQLException;
  }

  private Cursor cursor(String sql, Parameters parameters) throws SQLException {
    var conn = connect();
    try {
      // PostgreSQL streams a result set only inside a transaction, with a fetch size.
      conn.setAutoCommit(false);
      var st = conn.prepareStatement(sql);
      st.setFetchSize(1000);
      parameters.set(st);
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

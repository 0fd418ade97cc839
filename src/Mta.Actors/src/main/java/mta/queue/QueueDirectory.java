package mta.queue;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
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
 * <p>What a run reads: due messages are found by their tags, through the tag index, so a due
 * run costs what falls due, not what waits. Finished messages are found by the manifest of
 * their Completed event: a due run reads the journal's rows written since about the run before
 * last, by the index on ordering; only a full run reads every message. (A Completed event
 * carries no tag: pekko-persistence-jdbc writes a batch that holds a tagged event in two
 * statements with a hop between them, and every message ends with one.)
 */
public final class QueueDirectory {
  /**
   * Events by a span of due tags: the tag index alone. Each step of the runs below is a query
   * on one table by one of its indexes, so no planner can choose to read the journal instead:
   * given the tags and the journal in one query, H2 did exactly that as the tag table grew (it
   * evaluated the tag subquery for each journal row).
   */
  private static final String TAGGED_BETWEEN = """
      SELECT "event_id" FROM "event_tag" WHERE "tag" > ? AND "tag" <= ?""";

  /** Queries take this many ids at a time (one statement shape: a short chunk repeats its last id); a removal commits this many messages at a time. */
  private static final int CHUNK = 100;

  private static final String IDS = String.join(", ", Collections.nCopies(CHUNK, "?"));

  /** The messages of some events that have no due tag later than now (? after the ids). */
  private static final String AWAKE_MESSAGES_OF = """
      SELECT DISTINCT k."persistence_id" FROM "event_journal" k
      WHERE k."ordering" IN (%s)
        AND NOT EXISTS (
          SELECT 1 FROM "event_journal" l JOIN "event_tag" u ON u."event_id" = l."ordering"
          WHERE l."persistence_id" = k."persistence_id" AND u."tag" > ?)""".formatted(IDS);

  /** Finished messages, by the manifest of their Completed event: a read of the whole journal. */
  private static final String FINISHED = """
      SELECT "persistence_id" FROM "event_journal" WHERE "event_ser_manifest" = ?""";

  /**
   * Finished messages whose Completed event came after an ordering, up to the last one the
   * journal had given, by the index on ordering. Bounded on both sides: without statistics
   * PostgreSQL takes an open range for a third of the table and reads all of it, a closed one
   * for a small share (bench/RESULTS.md: 100-320 ms a run against the index's few).
   */
  private static final String FINISHED_AFTER = """
      SELECT "persistence_id" FROM "event_journal" WHERE "ordering" > ? AND "ordering" <= ? AND "event_ser_manifest" = ?""";

  /** The last ordering the journal gave, by its index (0: none). */
  private static final String TOP = """
      SELECT COALESCE(MAX("ordering"), 0) FROM "event_journal\"""";

  /**
   * All rows of one message, by the first column of the journal's primary key; sent in batches,
   * a transaction for each chunk. One id a statement, not a list of them: without statistics on
   * the journal (a new one, or no ANALYZE since it grew) PostgreSQL estimates an IN list of many
   * ids at a share of the table and reads all of it for each chunk, so a run's removal grew
   * with the journal's size times the messages removed (bench/RESULTS.md: 100 ids, 400 ms at
   * 600,000 rows, against a few hundredths of a millisecond a message by the index).
   */
  private static final String DELETE_MESSAGE = """
      DELETE FROM "event_journal" WHERE "persistence_id" = ?""";

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
   * How a removal of finished messages went: how many went, and the last ordering the journal
   * had given before it read (the next removal's {@code after}, one run later: see QueueScanner.Runs).
   */
  record Removal(int messages, long top) {}

  /**
   * Deletes the rows of the finished messages whose Completed event is later than ordering
   * {@code after} and no later than the journal's last ordering when it read (a later one is
   * the next removal's), or of every one when {@code after} is empty (a read of the whole
   * journal); the tags go with them (the foreign key cascades).
   */
  CompletionStage<Removal> removeFinished(OptionalLong after) {
    return query(conn -> {
      long top;
      try (var st = conn.prepareStatement(TOP); var rows = st.executeQuery()) {
        rows.next();
        top = rows.getLong(1);
      }
      List<Object> finished;
      try (var st = conn.prepareStatement(after.isPresent() ? FINISHED_AFTER : FINISHED)) {
        int next = 1;
        if (after.isPresent()) {
          st.setLong(next++, after.getAsLong());
          st.setLong(next++, top);
        }
        st.setString(next, Message.Completed.class.getName());
        finished = column(st);
      }
      conn.setAutoCommit(false);
      try (var st = conn.prepareStatement(DELETE_MESSAGE)) {
        for (int i = 0; i < finished.size(); i++) {
          st.setObject(1, finished.get(i));
          st.addBatch();
          if ((i + 1) % CHUNK == 0 || i + 1 == finished.size()) {
            st.executeBatch();
            conn.commit();
          }
        }
      }
      return new Removal(finished.size(), top);
    });
  }

  /** The first column of the statement's rows. */
  private static List<Object> column(PreparedStatement st) throws SQLException {
    var values = new ArrayList<Object>();
    try (var rows = st.executeQuery()) {
      while (rows.next()) values.add(rows.getObject(1));
    }
    return values;
  }

  /** The ids from {@code from} on, a chunk of them, as the statement's first parameters. */
  private static void setChunk(PreparedStatement st, List<?> ids, int from) throws SQLException {
    for (int j = 0; j < CHUNK; j++) st.setObject(j + 1, ids.get(Math.min(from + j, ids.size() - 1)));
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
    return new Cursor(TO_WAKE, st -> {
      st.setString(1, PREFIX + "%");
      st.setString(2, Message.dueTag(nowMillis));
    }, null);
  }

  /**
   * Opens a cursor over the queue ids of the deferred messages that fell due after
   * {@code sinceMillis}, up to {@code nowMillis}: their due tags in that span, a chunk at a
   * time resolved to the messages that have no later one.
   */
  Cursor dueSince(long sinceMillis, long nowMillis) throws SQLException {
    String now = Message.dueTag(nowMillis);
    return new Cursor(TAGGED_BETWEEN, st -> {
      st.setString(1, Message.dueTag(sinceMillis));
      st.setString(2, now);
    }, st -> st.setString(CHUNK + 1, now));
  }

  private interface Parameters {
    void set(PreparedStatement st) throws SQLException;
  }

  /**
   * The queue ids of one run, read as the run goes (a large queue is never all in memory).
   * Without {@code resolverParameters} the rows are the messages' persistence ids; with them
   * they are event ids, which a second connection turns into messages (AWAKE_MESSAGES_OF), a
   * chunk at a time: not every driver runs a query on a connection whose result set is still
   * being read.
   */
  final class Cursor implements AutoCloseable {
    private final Connection conn;
    private final PreparedStatement statement;
    private final ResultSet rows;
    private final Connection resolverConn;
    private final PreparedStatement resolver;
    private final Parameters resolverParameters;
    private final ArrayDeque<String> ready = new ArrayDeque<>();

    private Cursor(String sql, Parameters parameters, Parameters resolverParameters) throws SQLException {
      this.resolverParameters = resolverParameters;
      conn = connect();
      Connection second = null;
      try {
        second = resolverParameters == null ? null : connect();
        // PostgreSQL streams a result set only inside a transaction, with a fetch size.
        conn.setAutoCommit(false);
        statement = conn.prepareStatement(sql);
        statement.setFetchSize(1000);
        parameters.set(statement);
        rows = statement.executeQuery();
        resolver = second == null ? null : second.prepareStatement(AWAKE_MESSAGES_OF);
        resolverConn = second;
      } catch (SQLException | RuntimeException e) {
        var opened = second;
        try (conn; opened) {
          throw e;
        }
      }
    }

    Optional<String> next() throws SQLException {
      while (ready.isEmpty()) {
        var chunk = new ArrayList<Object>(CHUNK);
        while (chunk.size() < CHUNK && rows.next()) chunk.add(rows.getObject(1));
        if (chunk.isEmpty()) return Optional.empty();
        List<Object> messages = chunk;
        if (resolver != null) {
          setChunk(resolver, chunk, 0);
          resolverParameters.set(resolver);
          messages = column(resolver);
        }
        for (var id : messages) ready.add(((String) id).substring(PREFIX.length()));
      }
      return Optional.of(ready.poll());
    }

    @Override
    public void close() throws SQLException {
      try (conn; statement; rows; resolverConn; resolver) {
        conn.rollback();
      }
    }
  }
}

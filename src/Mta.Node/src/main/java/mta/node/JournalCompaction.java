package mta.node;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import mta.config.MtaConfig;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.RandomAccessStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded H2 journal's compaction, which H2 does not do for it by itself.
 *
 * <p>H2 writes each commit as a new chunk of its file and compacts in a background thread that
 * rewrites the live data of chunks that are mostly garbage. {@code WRITE_DELAY=0}, which makes
 * every commit durable before smtpd answers 250, also stops that thread: H2 then frees a chunk
 * only when nothing in it is live any more. A chunk with one deferred message's events in it
 * stays for as long as that message waits, with the garbage around it (superseded index
 * pages, delivered messages' rows). Loaded with a million deferred messages the file grew to
 * 23 GB (24.5 KB per 4 KB message) in 424,582 chunks, whose bookkeeping took 100 MB of heap,
 * and healthy mail ran at 0.68 of its speed.
 *
 * <p>So the node does H2's housekeeping step itself, from a thread of its own: every
 * {@link #EVERY}, when the chunks are less than {@link #TARGET_FILL_RATE} % live, it has H2
 * rewrite up to {@link #WRITE_PER_STEP} bytes of live data out of the emptiest chunks (H2's
 * {@code MVStore.compact}, under H2's store lock, as its own thread would). The old chunks
 * are then freed by H2 as usual, after its retention time, and their space is reused; chunks
 * are moved into the holes that leaves.
 * Durability is H2's: a rewrite is a commit like any other.
 */
final class JournalCompaction {
  /** Below this share of live data in the chunks, a step rewrites (H2's own thread aims at about 60 % under load). */
  static final int TARGET_FILL_RATE = 60;
  /** Live bytes rewritten per step at most: short steps, so commits wait little for the store lock. */
  static final int WRITE_PER_STEP = 2 * 1024 * 1024;
  /** Chunk bytes moved per step at most, when the file is less than TARGET_FILL_RATE % in use. */
  static final long MOVE_PER_STEP = 4 * 1024 * 1024;
  static final Duration EVERY = Duration.ofMillis(250);
  private static final Logger log = LoggerFactory.getLogger("master");

  private final MVStore store;
  /** Set by a failure: H2 refusing to compact is not transient (a closed or broken store); logged once. */
  private volatile boolean failed;

  JournalCompaction(MVStore store) {
    this.store = store;
  }

  /** The store under an open connection to an embedded H2 database. */
  static MVStore storeOf(Connection h2) throws SQLException {
    var session = (SessionLocal) h2.unwrap(JdbcConnection.class).getSession();
    return session.getDatabase().getStore().getMvStore();
  }

  /**
   * One step of housekeeping; true when it rewrote chunks. Rewriting frees whole chunks, which
   * leaves the file full of holes; H2 looks for space for each new chunk from the start of the
   * file, first fit, so past holes too small to use every commit walks (with 300,000 deferred
   * messages 9 % of the node's CPU went to that walk). So, as H2's own thread does, a step then
   * moves chunks from the end of the file into the holes while the file is less than
   * TARGET_FILL_RATE % in use.
   */
  boolean step() {
    boolean rewrote = store.compact(TARGET_FILL_RATE, WRITE_PER_STEP);
    if (store.getFileStore() instanceof RandomAccessStore file && store.getFillRate() < TARGET_FILL_RATE) {
      file.compactMoveChunks(TARGET_FILL_RATE, MOVE_PER_STEP, store);
    }
    return rewrote;
  }

  private void scheduledStep() {
    if (failed) return;
    try {
      step();
    } catch (RuntimeException e) {
      failed = true;
      log.warn("warning: journal compaction stopped: {}", e.toString());
    }
  }

  /**
   * For the H2 journal: compacts every {@link #EVERY} on a blocking-I/O thread until the node
   * stops. The connection it holds keeps the database open; it is closed last.
   */
  static void start(ActorSystem<?> system, MtaConfig config) {
    if (config.persistence() != MtaConfig.Persistence.H2) return;
    var db = config.config().getConfig("pekko-persistence-jdbc.shared-databases.mta.db");
    Connection connection;
    JournalCompaction compaction;
    try {
      connection = DriverManager.getConnection(db.getString("url"), db.getString("user"), db.getString("password"));
      compaction = new JournalCompaction(storeOf(connection));
    } catch (SQLException | RuntimeException e) {
      log.warn("warning: journal compaction not started: {}", e.getMessage());
      return;
    }
    var io = system.dispatchers().lookup(DispatcherSelector.blocking());
    var task = system.scheduler().scheduleWithFixedDelay(EVERY, EVERY, compaction::scheduledStep, io);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseActorSystemTerminate(), "journal-compaction-stop", () -> {
      task.cancel();
      try {
        connection.close();
      } catch (SQLException e) {
        log.warn("warning: journal compaction: {}", e.getMessage());
      }
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }
}

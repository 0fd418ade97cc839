package mta.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded journal's compaction on a real H2 file written as the node writes it (one
 * durable commit per write, {@code WRITE_DELAY=0}): rows that wait (deferred mail) are spread
 * thinly over many chunks among rows that are gone (delivered mail); compaction must gather
 * them into few, full chunks and lose none.
 */
class JournalCompactionTest {
  private static final int MESSAGES = 2000;
  /** One message in this many waits; the others are delivered and removed. */
  private static final int WAITING_EVERY = 10;

  @Test
  void gathersWaitingMailIntoFewFullChunksAndKeepsIt(@TempDir Path dir) throws SQLException {
    try (var h2 = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("journal") + ";WRITE_DELAY=0", "sa", "")) {
      try (var st = h2.createStatement()) {
        st.execute("CREATE TABLE mail (id INT PRIMARY KEY, waiting BOOLEAN, content VARBINARY(8192))");
        // H2 keeps freed chunks for 45 s by default before it may reuse or rewrite them.
        st.execute("SET RETENTION_TIME 0");
      }
      var content = new byte[4096];
      Arrays.fill(content, (byte) 'x');
      try (var insert = h2.prepareStatement("INSERT INTO mail VALUES (?, ?, ?)")) {
        for (int id = 0; id < MESSAGES; id++) {
          insert.setInt(1, id);
          insert.setBoolean(2, id % WAITING_EVERY == 0);
          insert.setBytes(3, content);
          insert.executeUpdate();
        }
      }
      try (var delete = h2.prepareStatement("DELETE FROM mail WHERE id = ?")) {
        for (int id = 0; id < MESSAGES; id++) {
          if (id % WAITING_EVERY == 0) continue;
          delete.setInt(1, id);
          delete.executeUpdate();
        }
      }
      int chunksBefore = info(h2, "CHUNK_COUNT");
      int fillBefore = info(h2, "CHUNKS_FILL_RATE");
      assertTrue(fillBefore < JournalCompaction.TARGET_FILL_RATE, "the chunks are mostly garbage: " + fillBefore + " %");

      var compaction = new JournalCompaction(JournalCompaction.storeOf(h2));
      int rewrites = 0;
      // As on a node, commits go on between the steps: H2 accounts for the rewritten pages and
      // drops the emptied chunks as it stores the next versions.
      try (var commit = h2.prepareStatement("UPDATE mail SET waiting = TRUE WHERE id = ?")) {
        for (int step = 0; step < 50; step++) {
          if (compaction.step()) rewrites++;
          commit.setInt(1, step * WAITING_EVERY);
          commit.executeUpdate();
          if (info(h2, "CHUNKS_FILL_RATE") >= JournalCompaction.TARGET_FILL_RATE && info(h2, "CHUNK_COUNT") * 4 < chunksBefore
              && info(h2, "FILL_RATE") >= JournalCompaction.TARGET_FILL_RATE) {
            break;
          }
        }
      }

      int chunksAfter = info(h2, "CHUNK_COUNT");
      int fillAfter = info(h2, "CHUNKS_FILL_RATE");
      assertTrue(rewrites > 0, "compaction rewrote chunks");
      assertTrue(fillAfter >= JournalCompaction.TARGET_FILL_RATE, "chunks " + fillAfter + " % live after compaction (" + fillBefore + " % before)");
      assertTrue(chunksAfter * 4 < chunksBefore, chunksAfter + " chunks after compaction, " + chunksBefore + " before");
      int fileFill = info(h2, "FILL_RATE");
      assertTrue(fileFill >= JournalCompaction.TARGET_FILL_RATE, "the file is " + fileFill + " % in use after compaction (holes moved away)");
      try (var st = h2.createStatement(); var rs = st.executeQuery("SELECT COUNT(*), SUM(OCTET_LENGTH(content)) FROM mail WHERE waiting")) {
        rs.next();
        assertEquals(MESSAGES / WAITING_EVERY, rs.getInt(1));
        assertEquals((long) MESSAGES / WAITING_EVERY * content.length, rs.getLong(2));
      }
    }
  }

  /** H2's figures about its store ({@code info.*} in INFORMATION_SCHEMA.SETTINGS). */
  private static int info(Connection h2, String name) throws SQLException {
    try (var st = h2.prepareStatement("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = ?")) {
      st.setString(1, "info." + name);
      try (var rs = st.executeQuery()) {
        assertTrue(rs.next(), "H2 reports info." + name);
        return Integer.parseInt(rs.getString(1));
      }
    }
  }
}

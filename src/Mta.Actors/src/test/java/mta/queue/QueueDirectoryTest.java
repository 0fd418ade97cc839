package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue run's SQL on the embedded journal's schema (hocon/schema/h2.sql), with rows
 * laid out as pekko-persistence-jdbc writes them: which messages a full run and a due run
 * wake, and which ones the removal of finished messages deletes.
 */
class QueueDirectoryTest {
  private static final long NOW = 1_800_000_000_000L;
  private static final String ACCEPTED = Message.Accepted.class.getName();
  private static final String ATTEMPTED = Message.DeliveryAttempted.class.getName();
  private static final String COMPLETED = Message.Completed.class.getName();
  private static final String TOP = "SELECT MAX(\"ordering\") FROM \"event_journal\"";

  @TempDir Path dir;
  private String url;
  private QueueDirectory queue;

  @BeforeEach
  void journal() throws Exception {
    url = "jdbc:h2:" + dir.resolve("journal") + ";DB_CLOSE_DELAY=-1";
    H2JournalSchema.create(url);
    queue = new QueueDirectory(ConfigFactory.parseMap(Map.of("url", url, "user", "sa", "password", "")), Runnable::run);
    message("active", event(ACCEPTED, null));
    message("finished", event(ACCEPTED, null), event(COMPLETED, null));
    // As journals written before Completed lost its tag hold it.
    message("finishedTagged", event(ACCEPTED, null), event(COMPLETED, "done"));
    message("asleep", event(ACCEPTED, null), event(ATTEMPTED, Message.dueTag(NOW + 3_600_000)));
    message("dueNow", event(ACCEPTED, null), event(ATTEMPTED, Message.dueTag(NOW - 10_000)));
    message("dueLongAgo", event(ACCEPTED, null), event(ATTEMPTED, Message.dueTag(NOW - 86_400_000)));
    // Deferred twice: the older tag is past, the newer one says it sleeps on.
    message("deferredAgain", event(ACCEPTED, null), event(ATTEMPTED, Message.dueTag(NOW - 100_000)),
        event(ATTEMPTED, Message.dueTag(NOW + 3_600_000)));
  }

  @Test
  void aFullRunWakesEveryMessageThatIsNotAsleep() throws SQLException {
    assertEquals(Set.of("active", "finished", "finishedTagged", "dueNow", "dueLongAgo"), ids(queue.toWake(NOW)));
  }

  @Test
  void aDueRunWakesOnlyWhatFellDueInItsSpan() throws SQLException {
    assertEquals(Set.of("dueNow"), ids(queue.dueSince(NOW - 60_000, NOW)));
    assertEquals(Set.of(), ids(queue.dueSince(NOW - 5_000, NOW)), "fell due before the span");
    assertEquals(Set.of("dueNow", "dueLongAgo"), ids(queue.dueSince(NOW - 2 * 86_400_000L, NOW)));
    assertEquals(Set.of(), ids(queue.dueSince(NOW - 60_000, NOW - 20_000)), "not due yet at the span's end");
  }

  @Test
  void finishedMessagesGoThoseWrittenAfterAnOrderingOrAll() throws Exception {
    long top = count(TOP);
    message("finishedLater", event(ACCEPTED, null), event(COMPLETED, null));
    message("activeLater", event(ACCEPTED, null));
    assertEquals(new QueueDirectory.Removal(1, top + 3), removeFinished(OptionalLong.of(top)));
    assertEquals(Set.of("active", "finished", "finishedTagged", "dueNow", "dueLongAgo", "activeLater"), ids(queue.toWake(NOW)));
    assertEquals(new QueueDirectory.Removal(0, top + 3), removeFinished(OptionalLong.of(top)));
    assertEquals(new QueueDirectory.Removal(2, top + 3), removeFinished(OptionalLong.empty()));
    assertEquals(Set.of("active", "dueNow", "dueLongAgo", "activeLater"), ids(queue.toWake(NOW)));
    assertEquals(0, count("SELECT COUNT(*) FROM \"event_tag\" WHERE \"tag\" = 'done'"), "the tags went with the events");
    assertEquals(0, removeFinished(OptionalLong.empty()).messages());
  }

  @Test
  void anEmptyJournalHasTopZero() throws Exception {
    try (var conn = DriverManager.getConnection(url, "sa", ""); var st = conn.createStatement()) {
      st.execute("DELETE FROM \"event_journal\"");
    }
    assertEquals(new QueueDirectory.Removal(0, 0), removeFinished(OptionalLong.empty()));
  }

  @Test
  void manyAreReadAndDeletedAChunkAtATime() throws Exception {
    long top = count(TOP);
    for (int i = 0; i < 250; i++) {
      message("finished" + i, event(ACCEPTED, null), event(COMPLETED, null));
      message("due" + i, event(ACCEPTED, null), event(ATTEMPTED, Message.dueTag(NOW - 10_000)));
    }
    var due = ids(queue.dueSince(NOW - 60_000, NOW));
    assertEquals(251, due.size(), "250 and dueNow");
    assertEquals(250, removeFinished(OptionalLong.of(top)).messages());
    assertEquals(4, count("""
        SELECT COUNT(*) FROM "event_journal" WHERE "persistence_id" LIKE 'Message|finished%'"""),
        "the 250 after top went, the two before it stayed");
  }

  private QueueDirectory.Removal removeFinished(OptionalLong after) throws Exception {
    return queue.removeFinished(after).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void theQueueSizesCountWithoutTheFinished() throws Exception {
    assertEquals(Map.of("active", 3L, "deferred", 2L), queue.sizes(NOW).toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  private record Event(String manifest, String tag) {}

  private static Event event(String manifest, String tag) {
    return new Event(manifest, tag);
  }

  private void message(String queueId, Event... events) throws SQLException {
    try (var conn = DriverManager.getConnection(url, "sa", "")) {
      for (int i = 0; i < events.length; i++) {
        try (var st = conn.prepareStatement("""
            INSERT INTO "event_journal" ("persistence_id", "sequence_number", "writer", "write_timestamp",
              "adapter_manifest", "event_payload", "event_ser_id", "event_ser_manifest") VALUES (?, ?, 'test', 0, '', ?, 1, ?)""",
            new String[] {"ordering"})) {
          st.setString(1, Message.ENTITY_TYPE_KEY.name() + "|" + queueId);
          st.setLong(2, i + 1);
          st.setBytes(3, new byte[] {1});
          st.setString(4, events[i].manifest());
          st.executeUpdate();
          if (events[i].tag() == null) continue;
          try (var keys = st.getGeneratedKeys(); var tag = conn.prepareStatement("INSERT INTO \"event_tag\" VALUES (?, ?)")) {
            keys.next();
            tag.setLong(1, keys.getLong(1));
            tag.setString(2, events[i].tag());
            tag.executeUpdate();
          }
        }
      }
    }
  }

  private long count(String sql) throws SQLException {
    try (var conn = DriverManager.getConnection(url, "sa", ""); var rows = conn.createStatement().executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static Set<String> ids(QueueDirectory.Cursor cursor) throws SQLException {
    try (cursor) {
      var ids = new TreeSet<String>();
      for (var id = cursor.next(); id.isPresent(); id = cursor.next()) ids.add(id.get());
      return ids;
    }
  }
}

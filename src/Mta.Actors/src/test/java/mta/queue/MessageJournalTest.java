package mta.queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import mta.config.MtaConfig;
import mta.dsn.NotifyPolicy;
import mta.mail.Dsn;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MessageJournal} on the embedded journal (H2, as a node runs it): a message smtpd has
 * just received is written without a read of the database (H2's own statement counts say
 * so), while a message that starts for anything else is read back from the journal; an
 * Accept at an id the journal already holds fails and leaves what is there alone.
 */
class MessageJournalTest {
  /** The plugin's query for the highest sequence number written under an id (not the query for its count). */
  private static final String HIGHEST = "select max(%\"sequence_number\" as %";

  private static QueueTestCluster cluster;
  private static ClusterSharding sharding;
  private static String url;
  /** Held open: H2 closes a database with its last connection, and forgets its statistics. */
  private static Connection held;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    MtaConfig config = QueueTestCluster.config(dir, """
        mta {
          myhostname = mx.test
          data_directory = "%s"
          queue_run_delay = 1h
        }
        """.formatted(dir.resolve("data")));
    url = config.config().getString("pekko-persistence-jdbc.shared-databases.mta.db.url");
    H2JournalSchema.create(url);
    held = DriverManager.getConnection(url, "sa", "");
    held.createStatement().execute("SET QUERY_STATISTICS TRUE");
    cluster = new QueueTestCluster("MessageJournalTest", config.config());
    sharding = ClusterSharding.get(cluster.kit.system());
    cluster.startMessages(config,
        new NotifyPolicy(Set.of(), "postmaster@mx.test", "postmaster@mx.test", "postmaster@mx.test", "double-bounce@mx.test"));
    // Its destination's queue entity starts (and reads the journal) here, not in a test:
    // once it leases the message to the agent, it has.
    accept("QFIRST", "first of all");
    assertEquals("QFIRST", cluster.nextLease(Duration.ofSeconds(10)).queueId());
  }

  @AfterAll
  static void stop() throws SQLException {
    cluster.close();
    held.close();
  }

  @Test
  void aReceivedMessageIsWrittenWithoutAReadAndReadBackWhenItStartsAgain() throws Exception {
    long reads = highestSequenceNumberReads();
    accept("QNEWONE", "first");
    accept("QNEWTWO", "second");
    assertEquals(reads, highestSequenceNumberReads(), "new queue ids: the journal was not asked");
    assertEquals(1, count("QNEWONE"), "the message is in the journal");

    restart("QNEWONE");
    assertArrayEquals(body("first"), content("QNEWONE"), "read back from the journal");
    assertEquals(reads + 1, highestSequenceNumberReads(), "a start for anything but a new message asks the journal");
  }

  @Test
  void anAcceptAtAnIdTheJournalHoldsFailsAndLeavesItAlone() throws Exception {
    accept("QTWICE", "the original");
    restart("QTWICE");
    // As if two nodes had made up the same queue id: the second Accept starts a new entity.
    var failure = assertThrows(ExecutionException.class, () -> accept("QTWICE", "a usurper"));
    // The entity stopped on the failed write; sharding takes mail for it again once it knows.
    QueueTestCluster.sleep(Duration.ofMillis(300));
    assertEquals(1, count("QTWICE"), "nothing more was written: " + failure.getCause());
    assertArrayEquals(body("the original"), content("QTWICE"));
  }

  @Test
  void aStartThatIsNotForANewMessageOverridesWhatAnEarlierStartLeft() throws Exception {
    accept("QLEFTOVER", "kept");
    restart("QLEFTOVER");
    // An entity that started for a new message and stopped before its recovery asked.
    NewMessages.get(cluster.kit.system()).expect("Message|QLEFTOVER");
    assertArrayEquals(body("kept"), content("QLEFTOVER"), "recovered from the journal, not taken for new");
  }

  private static void accept(String queueId, String text) throws Exception {
    var accepted = new Message.Accepted("alice@senders.test",
        List.of(new Message.RoutedRecipient("bob@far.test", "smtp:[far.test]", Dsn.Rcpt.NONE)),
        System.currentTimeMillis(), body(text), false, Dsn.Mail.NONE);
    Message.accept(sharding, queueId, accepted, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  private static byte[] body(String text) {
    return ("Subject: " + text + "\r\n\r\n" + text + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** Passivates the entity: the next command starts it again. */
  private static void restart(String queueId) throws Exception {
    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, queueId).tell(new Message.Stop());
    QueueTestCluster.sleep(Duration.ofMillis(300));
  }

  private static byte[] content(String queueId) throws Exception {
    return sharding.entityRefFor(Message.ENTITY_TYPE_KEY, queueId)
        .<Message.Content>askWithStatus(Message.GetContent::new, Duration.ofSeconds(5))
        .toCompletableFuture().get(10, TimeUnit.SECONDS).content();
  }

  private static long count(String queueId) throws SQLException {
    return number("SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = 'Message|" + queueId + "'");
  }

  private static long highestSequenceNumberReads() throws SQLException {
    return number("SELECT COALESCE(SUM(EXECUTION_COUNT), 0) FROM INFORMATION_SCHEMA.QUERY_STATISTICS WHERE SQL_STATEMENT LIKE '"
        + HIGHEST + "'");
  }

  private static long number(String query) throws SQLException {
    try (var conn = DriverManager.getConnection(url, "sa", ""); var rows = conn.createStatement().executeQuery(query)) {
      rows.next();
      return rows.getLong(1);
    }
  }
}

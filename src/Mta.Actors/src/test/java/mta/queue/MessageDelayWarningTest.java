package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mta.LogCapture;
import mta.config.MtaConfig;
import mta.dsn.NotifyClass;
import mta.dsn.NotifyPolicy;
import mta.mail.Dsn;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.pekko.Done;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * delay_warning_time, with the Message and DestinationQueue entities sharded in a one-node
 * test cluster and a test probe as the delivery agent: a message whose recipients keep being
 * deferred gets one delay notice to its sender (only about the recipients whose NOTIFY asks
 * for delays) and one copy to delay_notice_recipient, both queued as messages of their own;
 * the retries go on, and neither more retries nor a passivation of the entity send it again.
 */
class MessageDelayWarningTest {
  private static final Duration WARNING = Duration.ofSeconds(2);
  private static final String SLOW = "smtp:[slow.test]";
  private static final String DEFERRAL = "host slow.test[192.0.2.1]:25 said: 451 4.3.2 try again later (in reply to RCPT TO command)";
  private static QueueTestCluster cluster;
  private static ClusterSharding sharding;
  @RegisterExtension final LogCapture logged = new LogCapture("qmgr");

  @BeforeAll
  static void start(@TempDir Path dir) {
    cluster = new QueueTestCluster("MessageDelayWarningTest");
    MtaConfig config = QueueTestCluster.config(dir, """
        mta {
          myhostname = mx.test
          delay_warning_time = %ds
          minimal_backoff_time = 500ms
          maximal_backoff_time = 500ms
          queue_run_delay = 30s
        }
        """.formatted(WARNING.toSeconds()));
    sharding = ClusterSharding.get(cluster.kit.system());
    cluster.startMessages(config, new NotifyPolicy(Set.of(NotifyClass.DELAY), "postmaster@admin.test", "postmaster@admin.test",
        "delays@admin.test", "double-bounce@mx.test"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static Message.RoutedRecipient rcpt(String address, Set<Dsn.Notify> notify) {
    return new Message.RoutedRecipient(address, SLOW, new Dsn.Rcpt(notify, null));
  }

  @Test
  void oneDelayNoticeWhileTheRetriesGoOnThenTheMessageIsDelivered() throws Exception {
    var content = "From: alice@senders.test\r\nTo: bob@slow.test\r\nSubject: slow going\r\nMessage-ID: <delay-1@senders.test>\r\n\r\nbody\r\n";
    var accepted = new Message.Accepted("alice@senders.test", List.of(
            rcpt("bob@slow.test", null), // no NOTIFY: failures and delays
            rcpt("carol@slow.test", Set.of()), // NOTIFY=NEVER
            rcpt("dave@slow.test", EnumSet.of(Dsn.Notify.SUCCESS))), // no DELAY
        System.currentTimeMillis(), content.getBytes(StandardCharsets.US_ASCII), false, Dsn.Mail.NONE);
    Message.accept(sharding, "QDELAYED1", accepted, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

    // Defer every attempt for a while; collect whatever else is leased: the notices.
    var notices = new ArrayList<Notice>();
    int attemptsAfterWarning = deferFor(Duration.ofSeconds(WARNING.toSeconds() + 3), notices).afterFirstNotice();
    assertEquals(2, notices.size(), () -> "one notice to the sender, one copy to delay_notice_recipient: " + notices);
    assertTrue(attemptsAfterWarning >= 2, "retries went on after the warning: " + attemptsAfterWarning);

    var toSender = notices.stream().filter(n -> n.lease().route().equals("smtp:[senders.test]")).findFirst().orElseThrow();
    assertEquals(List.of("alice@senders.test"), toSender.lease().recipients());
    var report = toSender.content();
    assertEquals("", report.sender(), "from the null sender");
    var text = new String(report.content(), StandardCharsets.ISO_8859_1);
    assertTrue(text.contains("Subject: Delayed Mail (still being retried)"), text);
    var message = new DefaultMessageBuilder().parseMessage(new ByteArrayInputStream(report.content()));
    assertEquals("multipart/report", message.getMimeType());
    var parts = ((Multipart) message.getBody()).getBodyParts();
    assertEquals(List.of("text/plain", "message/delivery-status", "text/rfc822-headers"),
        parts.stream().map(p -> p.getMimeType()).toList());
    var status = body(parts.get(1));
    assertTrue(status.contains("Final-Recipient: rfc822; bob@slow.test"), status);
    assertTrue(status.contains("Action: delayed") && status.contains("Status: 4.3.2"), status);
    assertTrue(status.contains("Diagnostic-Code: smtp; 451 4.3.2 try again later"), status);
    assertTrue(status.contains("Will-Retry-Until: "), status);
    assertFalse(status.contains("carol@slow.test") || status.contains("dave@slow.test"), "NOTIFY without DELAY: " + status);
    var headers = body(parts.get(2));
    assertTrue(headers.contains("Message-ID: <delay-1@senders.test>") && !headers.contains("body"), headers);

    var copy = notices.stream().filter(n -> n.lease().route().equals("smtp:[admin.test]")).findFirst().orElseThrow();
    assertEquals(List.of("delays@admin.test"), copy.lease().recipients());
    assertEquals("double-bounce@mx.test", copy.content().sender());
    var copyText = new String(copy.content().content(), StandardCharsets.ISO_8859_1);
    assertEquals(Set.of("QDELAYED1: sender delay notification: " + toSender.lease().queueId(),
            "QDELAYED1: postmaster delay notification: " + copy.lease().queueId()),
        Set.copyOf(logged.lines().stream().filter(l -> l.contains("delay notification")).toList()));
    assertTrue(copyText.contains("Postmaster Warning: Delayed Mail") && copyText.contains("carol@slow.test"), copyText);

    // Passivated and woken again, it replays DelayWarned: retries go on, no second notice.
    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, "QDELAYED1").tell(new Message.Stop());
    QueueTestCluster.sleep(Duration.ofMillis(300));
    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, "QDELAYED1").tell(new Message.Wake());
    var more = new ArrayList<Notice>();
    assertTrue(deferFor(Duration.ofSeconds(2), more).total() >= 2, "the woken message is retried");
    assertEquals(List.of(), more, "no second delay notice");
    assertEquals(2, logged.lines().stream().filter(l -> l.contains("delay notification")).count());

    // Delivered at last: the message completes.
    var lease = cluster.nextLease(Duration.ofSeconds(5));
    report(lease, RecipientResult.Outcome.SENT, "250 2.0.0 Ok");
    var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (status("QDELAYED1").isPresent()) {
      assertTrue(System.nanoTime() < deadline, "the delivered message completes");
      QueueTestCluster.sleep(Duration.ofMillis(100));
    }
  }

  /** A notice as the delivery agent got it: its lease and its content. */
  private record Notice(NodeQueue.Lease lease, Message.Content content) {}

  /**
   * Answers every lease to the slow destination with a deferral for {@code time}; leases
   * for other destinations (notices) are read, collected and delivered.
   */
  private static Deferrals deferFor(Duration time, List<Notice> others) throws Exception {
    var end = System.nanoTime() + time.toNanos();
    int total = 0;
    int afterNotice = 0;
    while (end - System.nanoTime() > 0) {
      NodeQueue.Lease lease;
      try {
        lease = cluster.nextLease(Duration.ofNanos(end - System.nanoTime()));
      } catch (AssertionError quiet) {
        break;
      }
      if (lease.route().equals(SLOW)) {
        report(lease, RecipientResult.Outcome.DEFERRED, DEFERRAL);
        total++;
        if (!others.isEmpty()) afterNotice++;
      } else {
        others.add(new Notice(lease, content(lease.queueId())));
        report(lease, RecipientResult.Outcome.SENT, "250 2.0.0 Ok");
      }
    }
    return new Deferrals(total, afterNotice);
  }

  /** How many leases to the slow destination were deferred: in all, and after the first notice came. */
  private record Deferrals(int total, int afterFirstNotice) {}

  /** What a delivery agent reports: the results to the message, the lease to its node's queue. */
  private static void report(NodeQueue.Lease lease, RecipientResult.Outcome outcome, String reply) {
    var dsn = outcome == RecipientResult.Outcome.SENT ? "2.0.0" : "4.3.2";
    var results = lease.recipients().stream()
        .map(r -> new RecipientResult(r, outcome, dsn, reply, "slow.test[192.0.2.1]:25")).toList();
    sharding.entityRefFor(Message.ENTITY_TYPE_KEY, lease.queueId())
        .tell(new Message.RecordResults(results, cluster.kit.system().ignoreRef()));
    cluster.completed(lease, true, 0);
  }

  private static Message.Content content(String queueId) throws Exception {
    return sharding.entityRefFor(Message.ENTITY_TYPE_KEY, queueId)
        .<Message.Content>askWithStatus(Message.GetContent::new, Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static java.util.Optional<Message.MessageStatus> status(String queueId) throws Exception {
    return sharding.entityRefFor(Message.ENTITY_TYPE_KEY, queueId)
        .<java.util.Optional<Message.MessageStatus>>ask(Message.GetStatus::new, Duration.ofSeconds(5))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String body(org.apache.james.mime4j.dom.Entity part) throws IOException {
    try (InputStream in = ((SingleBody) part.getBody()).getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }
}

package mta.management;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import mta.queue.Message.MessageStatus;
import mta.queue.Message;
import mta.queue.QueueDirectory;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The queue of the whole cluster, as the operator sees it: message ids from the read journal
 * ({@code currentPersistenceIds} with the {@code Message|} prefix), each message's status from
 * its entity, wherever it lives (a sharding ask, {@code parallelism} at a time), and the
 * operator's actions sent the same way. Asking wakes an entity that was passivated, as the
 * queue run does.
 */
final class QueueControl {
  private static final String PREFIX = Message.ENTITY_TYPE_KEY.name() + "|";
  private static final Pattern QUEUE_ID = Pattern.compile("[0-9A-Za-z]{1,64}");
  /** postsuper's word for every message. */
  static final String ALL = "ALL";

  private final ActorSystem<?> system;
  private final JdbcReadJournal journal;
  private final ClusterSharding sharding;
  private final int parallelism;
  private final Duration timeout;

  private final QueueDirectory directory;

  QueueControl(ActorSystem<?> system, QueueDirectory directory, int parallelism, Duration timeout) {
    this.system = system;
    this.directory = directory;
    this.journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    this.sharding = ClusterSharding.get(system);
    this.parallelism = parallelism;
    this.timeout = timeout;
  }

  /** Every message in the queue, in queue id (arrival) order. */
  Source<MessageStatus, NotUsed> statuses() {
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith(PREFIX))
        .map(id -> id.substring(PREFIX.length()))
        .mapAsync(parallelism, this::status)
        .mapConcat(s -> s.map(List::of).orElse(List.of()));
  }

  Source<QueueEntry, NotUsed> list() {
    return statuses().map(s -> QueueEntry.of(s, System.currentTimeMillis()));
  }

  /**
   * How many messages each queue holds (active, deferred, hold), counted in the journal:
   * a scrape must not wake a large deferred queue into memory.
   */
  CompletionStage<Map<String, Long>> sizes() {
    return directory.sizes(System.currentTimeMillis()).thenApply(counted -> {
      var sizes = new HashMap<String, Long>();
      QueueEntry.QUEUES.forEach(q -> sizes.put(q, 0L));
      sizes.putAll(counted);
      return sizes;
    });
  }

  /** qshape over the given queues (all when none are given). */
  CompletionStage<QueueShape> shape(List<String> queues) {
    return list().filter(e -> queues.isEmpty() || queues.contains(e.queueName()))
        .runWith(Sink.seq(), system)
        .thenApply(entries -> QueueShape.of(entries, System.currentTimeMillis()));
  }

  /** One message's status; empty when there is no such message. */
  CompletionStage<Optional<MessageStatus>> status(String queueId) {
    if (!QUEUE_ID.matcher(queueId).matches()) return CompletableFuture.completedFuture(Optional.empty());
    return entity(queueId).ask(Message.GetStatus::new, timeout);
  }

  /** One message in full; empty when there is no such message. */
  CompletionStage<Optional<MessageView>> show(String queueId, boolean withBody) {
    return status(queueId).thenCompose(status -> status.isEmpty() ? CompletableFuture.completedFuture(Optional.empty())
        : entity(queueId).askWithStatus(Message.GetContent::new, timeout)
            .thenApply(c -> Optional.of(MessageView.of(status.get(), c.content(), withBody, System.currentTimeMillis()))));
  }

  /**
   * Applies {@code action} to the message {@code target}, or to every message when it is
   * {@code ALL} (only those with an open recipient at {@code site}, when given). The number of
   * messages it changed; empty when the one message named does not exist.
   */
  CompletionStage<Optional<Integer>> apply(QueueAction action, String target, Optional<String> site) {
    if (!target.equals(ALL)) {
      return status(target).thenCompose(s -> s.isEmpty() ? CompletableFuture.completedFuture(Optional.empty())
          : apply(action, s.get()).thenApply(Optional::of));
    }
    return statuses()
        .filter(s -> site.map(domain -> QueueEntry.hasOpenRecipientAt(s, domain)).orElse(true))
        .mapAsync(parallelism, s -> apply(action, s))
        .runFold(0, Integer::sum, system)
        .thenApply(Optional::of);
  }

  private CompletionStage<Integer> apply(QueueAction action, MessageStatus status) {
    if (!action.appliesTo(status)) return CompletableFuture.completedFuture(0);
    return entity(status.queueId()).ask(action::command, timeout).thenApply(done -> 1);
  }

  private EntityRef<Message.Command> entity(String queueId) {
    return sharding.entityRefFor(Message.ENTITY_TYPE_KEY, queueId);
  }
}

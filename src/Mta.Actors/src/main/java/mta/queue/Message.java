package mta.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import mta.Asks;
import mta.CborSerializable;
import mta.config.MtaConfig;
import mta.dsn.Notice;
import mta.mail.Dsn;
import mta.management.Metrics;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One queued message (Postfix's queue file), sharded by queue id and event-sourced.
 *
 * <p>The entity is the truth about its recipients: which are pending, delivered, deferred
 * (and until when) or bounced. It hands pending recipients to its node's {@link NodeQueue},
 * which leases them, by route, within the node's share of their {@link DestinationQueue}'s
 * window; delivery agents fetch the content from here and report each recipient's outcome
 * back. Deferred recipients wait here, with Postfix's backoff, and go back to the node's
 * queue when due. When every recipient is final the message is {@link Completed}; the queue
 * run then removes its rows from the journal, as Postfix unlinks a queue file (queue ids are
 * never reused, so nothing can replay them).
 *
 * <p>The queues keep only soft state, so anything this entity has handed out is handed out
 * again when no result came back within a queue run ({@code queue_run_delay}): the queue
 * drops duplicates, and one that lost its mail (its node left or died) is refilled this way.
 */
public final class Message
    extends EventSourcedBehaviorWithEnforcedReplies<Message.Command, Message.Event, Message.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Message");
  /** The cluster role of nodes that hold queue entities (the seed node does not). */
  public static final String MAIL_ROLE = "mail";
  private static final Logger log = LoggerFactory.getLogger("qmgr");

  // --- commands and replies -------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /**
   * From smtpd at end of DATA (or a {@link Submission}): keep this message; the reply comes
   * after the journal commit. Not written once {@code deadlineMillis} has passed: the sender
   * has answered 451 by then and will send again, so a late write would only make a copy.
   * {@code resend}: an earlier Accept got no answer, so this id may be in the journal already.
   */
  public record Accept(Accepted message, boolean resend, long deadlineMillis, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** How long one Accept waits for its answer before it is sent again (within the caller's deadline). */
  static final Duration ACCEPT_ATTEMPT = Duration.ofSeconds(5);

  /**
   * Asks the entity {@code queueId} to accept {@code message}, sending the Accept again when no
   * answer comes within {@link #ACCEPT_ATTEMPT}, until {@code timeout}. Sharding may drop a
   * message on the way to a shard that is moving (a node leaving or dying); the resend
   * finds the shard at its new home, and repeating an Accept is harmless (it is answered
   * from the journal). Fails on an error answer, or with the last timeout.
   */
  public static CompletionStage<Done> accept(ClusterSharding sharding, String queueId, Accepted message, Duration timeout) {
    long deadlineNanos = System.nanoTime() + timeout.toNanos();
    long deadlineMillis = System.currentTimeMillis() + timeout.toMillis();
    return accept(sharding.entityRefFor(ENTITY_TYPE_KEY, queueId), message, false, deadlineNanos, deadlineMillis);
  }

  private static CompletionStage<Done> accept(
      EntityRef<Command> entity, Accepted message, boolean resend, long deadlineNanos, long deadlineMillis) {
    long left = deadlineNanos - System.nanoTime();
    var wait = Duration.ofNanos(Math.max(1, Math.min(left, ACCEPT_ATTEMPT.toNanos())));
    return Asks.onAnsweringThread(entity.<Done>askWithStatus(replyTo -> new Accept(message, resend, deadlineMillis, replyTo), wait))
        .handle((done, failure) -> {
          var cause = failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure;
          if (cause == null) return CompletableFuture.completedStage(done);
          if (cause instanceof TimeoutException && deadlineNanos - System.nanoTime() > 0) {
            log.info("{}: no answer to accept within {} ms, sending it again", entity.getEntityId(), wait.toMillis());
            return accept(entity, message, true, deadlineNanos, deadlineMillis);
          }
          return CompletableFuture.<Done>failedStage(cause);
        })
        .thenCompose(stage -> stage);
  }

  /** From the queue scan (start-up, queue runs): resume whatever is due. */
  public record Wake() implements Command {}

  /** From mtactl (postcat): the envelope sender and content. */
  public record GetContent(ActorRef<StatusReply<Content>> replyTo) implements Command {}

  /**
   * From the delivery agent of the node this entity runs on: the envelope sender and
   * content, to deliver. An agent elsewhere is refused: its node leased the message before
   * the entity moved here, and it has queued its mail again on this node, which delivers it.
   */
  public record GetContentToDeliver(ActorRef<StatusReply<Content>> replyTo) implements Command {}

  /** From a delivery agent or a node's queue (a dead site): what became of some recipients. */
  public record RecordResults(List<RecipientResult> results, ActorRef<Done> replyTo) implements Command {}

  /** From the operator (postsuper -h / -H / -d, postqueue -f): steer this message. */
  public record Hold(ActorRef<Done> replyTo) implements Command {}

  public record Release(ActorRef<Done> replyTo) implements Command {}

  public record Delete(ActorRef<Done> replyTo) implements Command {}

  /** Deferred recipients are tried now, whatever their backoff says. */
  public record Flush(ActorRef<Done> replyTo) implements Command {}

  /** What mailq shows of this message; empty when there is no such message. */
  public record GetStatus(ActorRef<Optional<MessageStatus>> replyTo) implements Command {}

  public record MessageStatus(
      String queueId, String sender, long arrivalMillis, int size, boolean held, Map<String, RecipientState> recipients)
      implements CborSerializable {}

  /**
   * From the shard, to passivate or hand off this entity. As a command (not a plain stop) it
   * waits behind a journal write under way, so an Accept being committed when the shard moves
   * (a node leaving) is still answered 250 instead of being cut off with a 451.
   */
  public record Stop() implements Command {}

  private record RetryDue() implements Command {}

  private record NoticesQueued(List<String> queueIds, Throwable failure) implements Command {}

  private record DelayWarningQueued(List<Notice> notices, List<String> queueIds, Throwable failure) implements Command {}

  public record Content(String queueId, String sender, long arrivalMillis, byte[] content) implements CborSerializable {}

  // --- events ---------------------------------------------------------------------------

  public sealed interface Event extends CborSerializable {}

  /** The accepted message: envelope with each recipient's route, the cleaned content, and whether it starts on hold. */
  public record Accepted(
      String sender, List<RoutedRecipient> recipients, long arrivalMillis, byte[] content, boolean held, Dsn.Mail dsn)
      implements Event {
    public Accepted {
      dsn = dsn == null ? Dsn.Mail.NONE : dsn;
    }
  }

  /** A recipient with its route and its RFC 3461 requests (NOTIFY, ORCPT). */
  public record RoutedRecipient(String address, String route, Dsn.Rcpt dsn) implements CborSerializable {
    public RoutedRecipient {
      dsn = dsn == null ? Dsn.Rcpt.NONE : dsn;
    }
  }

  /**
   * What became of some recipients. {@code sleepsUntilMillis}: when this attempt leaves every
   * open recipient deferred, the time the first falls due, else 0. Such an event is tagged
   * with that time (see {@link #dueTag}) so the queue run finds the message when it is due
   * without waking it before: meanwhile it costs journal rows, not heap.
   */
  public record DeliveryAttempted(List<RecipientResult> results, long atMillis, long sleepsUntilMillis) implements Event {}

  /**
   * Every recipient is final (or the operator deleted the message); the content can go. The
   * queue run finds it by its manifest among the rows written since its last runs (QueueDirectory).
   */
  public record Completed() implements Event {}

  /**
   * delay_warning_time has passed with recipients still deferred, and the delay notices owed
   * (none, when no NOTIFY asked for them) are queued: never again for this message.
   * {@code sleepsUntilMillis} as in {@link DeliveryAttempted}.
   */
  public record DelayWarned(long sleepsUntilMillis) implements Event {}

  /** Put on hold (by the operator or a HOLD action): nothing is delivered until released. */
  public record HeldMessage() implements Event {}

  public record ReleasedMessage() implements Event {}

  // --- state ----------------------------------------------------------------------------

  public enum Status { PENDING, DEFERRED, SENT, BOUNCED;
    boolean isFinal() { return this == SENT || this == BOUNCED; }
  }

  /**
   * One recipient: where it goes, how far it got, and the last attempt's DSN status, reason
   * and relay (what a notice reports), with the sender's DSN requests for it.
   */
  public record RecipientState(
      String route, Status status, long notBeforeMillis, String dsn, String reason, String relay, Dsn.Rcpt request)
      implements CborSerializable {}

  public sealed interface State extends CborSerializable {}

  public record Empty() implements State {}

  /** {@code delayWarned}: the delay warning is behind it (Postfix clears the queue file's warning time). */
  public record Queued(
      String sender, long arrivalMillis, byte[] content, Map<String, RecipientState> recipients, boolean held, Dsn.Mail dsn,
      boolean delayWarned)
      implements State {

    Queued apply(DeliveryAttempted attempt, QueueTimes times) {
      var next = new LinkedHashMap<>(recipients);
      for (var r : attempt.results()) {
        var current = next.get(r.recipient());
        if (current == null || current.status().isFinal()) continue;
        var status = switch (r.outcome()) {
          case SENT -> Status.SENT;
          case BOUNCED -> Status.BOUNCED;
          case DEFERRED -> Status.DEFERRED;
        };
        long notBefore = status == Status.DEFERRED ? attempt.atMillis() + times.backoffMillis(arrivalMillis, attempt.atMillis()) : 0;
        next.put(r.recipient(), new RecipientState(current.route(), status, notBefore, r.dsn(), r.reply(), r.relay(), current.request()));
      }
      return new Queued(sender, arrivalMillis, content, next, held, dsn, delayWarned);
    }

    Queued withHeld(boolean held) {
      return new Queued(sender, arrivalMillis, content, recipients, held, dsn, delayWarned);
    }

    Queued withDelayWarned() {
      return new Queued(sender, arrivalMillis, content, recipients, held, dsn, true);
    }

    /**
     * When the delay warning falls due: delay_warning_time after arrival, while it has not
     * been sent and some recipient is deferred; never when delay_warning_time is 0 (off).
     */
    long delayWarningMillis(QueueTimes times) {
      boolean deferred = recipients.values().stream().anyMatch(r -> r.status() == Status.DEFERRED);
      if (times.delayWarning().isZero() || delayWarned || !deferred) return Long.MAX_VALUE;
      return arrivalMillis + times.delayWarning().toMillis();
    }

    MessageStatus status(String queueId) {
      return new MessageStatus(queueId, sender, arrivalMillis, content.length, held, recipients);
    }

    boolean allFinal() {
      return recipients.values().stream().allMatch(r -> r.status().isFinal());
    }

    /**
     * When nothing is out and every open recipient waits for its retry (Postfix's deferred
     * queue): the time the first falls due, or the delay warning does if sooner; 0 when some
     * recipient is with a delivery agent or due now, the warning is due, or none is open.
     */
    long sleepsUntilMillis(long now, QueueTimes times) {
      long first = Long.MAX_VALUE;
      for (var r : recipients.values()) {
        if (r.status().isFinal()) continue;
        if (r.status() != Status.DEFERRED || r.notBeforeMillis() <= now) return 0;
        first = Math.min(first, r.notBeforeMillis());
      }
      if (first == Long.MAX_VALUE) return 0;
      long warning = delayWarningMillis(times);
      return warning <= now ? 0 : Math.min(first, warning);
    }

    /** Recipients that should be with their destination queue now, by route; none while held. */
    Map<String, List<String>> dueByRoute(long now) {
      if (held) return Map.of();
      return recipients.entrySet().stream()
          .filter(e -> e.getValue().status() == Status.PENDING
              || (e.getValue().status() == Status.DEFERRED && e.getValue().notBeforeMillis() <= now))
          .collect(Collectors.groupingBy(e -> e.getValue().route(), LinkedHashMap::new,
              Collectors.mapping(Map.Entry::getKey, Collectors.toList())));
    }

    /**
     * When this entity next has something to do by itself: hand out a deferred recipient
     * that falls due, or, for recipients already handed out (pending, or deferred and due),
     * hand them out again if no result came back within a queue run; or send the delay
     * warning when it falls due.
     */
    long nextWakeMillis(long now, QueueTimes times) {
      if (held) return Long.MAX_VALUE;
      long queueRunMillis = times.queueRunDelay().toMillis();
      long warning = delayWarningMillis(times);
      long next = warning > now ? warning : Long.MAX_VALUE;
      for (var r : recipients.values()) {
        boolean handedOut = r.status() == Status.PENDING || (r.status() == Status.DEFERRED && r.notBeforeMillis() <= now);
        if (handedOut) next = Math.min(next, now + queueRunMillis);
        else if (r.status() == Status.DEFERRED) next = Math.min(next, r.notBeforeMillis());
      }
      return next;
    }
  }

  public record Finished() implements State {}

  // --- set-up ---------------------------------------------------------------------------

  /**
   * Postfix's retry timing: back off by the time the message has waited, within bounds;
   * {@code delayWarning} is delay_warning_time (zero: no warnings).
   */
  public record QueueTimes(
      Duration minimalBackoff, Duration maximalBackoff, Duration queueRunDelay, Duration maximalLifetime, Duration delayWarning) {
    long backoffMillis(long arrivalMillis, long now) {
      long waited = now - arrivalMillis;
      return Math.max(minimalBackoff.toMillis(), Math.min(maximalBackoff.toMillis(), waited));
    }
  }

  public static void init(ActorSystem<?> system, MtaConfig config, Notices notices, ActorRef<NodeQueue.Command> queue) {
    var q = config.queue();
    var times = new QueueTimes(q.minimalBackoffTime(), q.maximalBackoffTime(), q.queueRunDelay(), q.maximalQueueLifetime(),
        q.delayWarningTime());
    // At home: the node that received a message keeps it (MessageShards).
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx, times, notices, queue))
        .withMessageExtractor(MessageShards.<Command>extractor())
        .withAllocationStrategy(new MessageShards.HomeAllocation())
        .withStopMessage(new Stop()).withRole(MAIL_ROLE));
  }

  /**
   * The first command decides how the entity starts. An {@link Accept} arrives only at a
   * queue id that smtpd has just made up, so there is nothing to replay: recovery is skipped,
   * and the journal is not asked for the highest sequence number either ({@link
   * MessageJournal}), so a received message costs the database no read at all. Should the id
   * exist after all, the write of event 1 collides with the journal's primary key and fails:
   * 451, never loss. Any other first command (a wake-up, a delivery agent, the operator)
   * recovers as usual.
   */
  static Behavior<Command> create(EntityContext<Command> entity, QueueTimes times, Notices notices,
      ActorRef<NodeQueue.Command> queue) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(1, stash ->
        Behaviors.receive(Command.class).onAnyMessage(first -> {
          stash.stash(first);
          boolean fresh = first instanceof Accept accept && !accept.resend();
          return stash.unstashAll(new Message(entity, ctx, timers, times, notices, queue, fresh));
        }).build())));
  }

  private final String queueId;
  private final EntityContext<Command> entity;
  private final ActorRef<Command> self;
  private final ClusterSharding sharding;
  private final TimerScheduler<Command> timers;
  private final QueueTimes times;
  /** An Accept whose journal write is under way: told of the failure if this entity stops first. */
  private ActorRef<StatusReply<Done>> awaitingCommit;

  private final boolean fresh;

  private final ActorContext<Command> ctx;
  /** Where this entity says, before its recovery, whether it starts for a new message (MessageJournal). */
  private final NewMessages newMessages;
  private final Notices notices;
  /** This node's queue, where ready recipients go (the node the entity runs on: its home, unless that is gone). */
  private final ActorRef<NodeQueue.Command> queue;
  /** Notices are being queued (sendNotices until NoticesQueued): not again meanwhile. */
  private boolean noticesUnderWay;
  /** The delay warning is being queued (warnIfDelayed until DelayWarningQueued): not again meanwhile. */
  private boolean delayWarningUnderWay;

  private Message(EntityContext<Command> entity, ActorContext<Command> ctx, TimerScheduler<Command> timers,
      QueueTimes times, Notices notices, ActorRef<NodeQueue.Command> queue, boolean fresh) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), entity.getEntityId()));
    this.queue = queue;
    this.fresh = fresh;
    this.ctx = ctx;
    this.notices = notices;
    this.queueId = entity.getEntityId();
    this.entity = entity;
    this.self = ctx.getSelf();
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.timers = timers;
    this.times = times;
    // Before the recovery starts: the journal answers it by this (NewMessages).
    this.newMessages = NewMessages.get(ctx.getSystem());
    if (fresh) newMessages.expect(persistenceId().id());
    else newMessages.forget(persistenceId().id());
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  /** No snapshots are taken, so recovery does not ask the snapshot store (one query less per start). */
  @Override
  public SnapshotSelectionCriteria snapshotSelectionCriteria() {
    return SnapshotSelectionCriteria.none();
  }

  @Override
  public Recovery recovery() {
    return fresh ? Recovery.disabled() : Recovery.withSnapshotSelectionCriteria(SnapshotSelectionCriteria.none());
  }

  // --- command handlers -----------------------------------------------------------------

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    absent(b.forStateType(Empty.class).onCommand(Accept.class, this::accept));
    b.forStateType(Queued.class)
        .onCommand(Stop.class, (s, c) -> Effect().stop().thenNoReply())
        .onCommand(Accept.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.ack()))
        .onCommand(Wake.class, (s, c) -> resume(s))
        .onCommand(RetryDue.class, (s, c) -> resume(s))
        .onCommand(GetContent.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(content(s))))
        .onCommand(GetContentToDeliver.class, (s, c) -> Effect().reply(c.replyTo(),
            c.replyTo().path().address().hasLocalScope()
                ? StatusReply.success(content(s))
                : StatusReply.error("delivered from another node now: " + queueId)))
        .onCommand(RecordResults.class, this::recordResults)
        .onCommand(NoticesQueued.class, this::noticesQueued)
        .onCommand(DelayWarningQueued.class, this::delayWarningQueued)
        .onCommand(GetStatus.class, (s, c) -> {
          // mailq walks the whole queue: a sleeping message it woke goes back to sleep.
          if (asleep(s, System.currentTimeMillis())) passivate();
          return Effect().reply(c.replyTo(), Optional.of(s.status(queueId)));
        })
        .onCommand(Hold.class, (s, c) -> s.held() ? Effect().reply(c.replyTo(), Done.getInstance())
            : Effect().persist(new HeldMessage()).thenRun(x -> {
                timers.cancelAll();
                log.info("{}: hold: by the operator", queueId);
              }).thenReply(c.replyTo(), x -> Done.getInstance()))
        .onCommand(Release.class, (s, c) -> !s.held() ? Effect().reply(c.replyTo(), Done.getInstance())
            : Effect().persist(new ReleasedMessage()).thenRun(x -> {
                log.info("{}: released from hold", queueId);
                resume((Queued) x);
              }).thenReply(c.replyTo(), x -> Done.getInstance()))
        .onCommand(Delete.class, (s, c) -> Effect().persist(new Completed()).thenRun(x -> {
              log.info("{}: removed by the operator", queueId);
              afterAttempt(x, System.currentTimeMillis());
            }).thenReply(c.replyTo(), x -> Done.getInstance()))
        .onCommand(Flush.class, (s, c) -> {
          flush(s);
          return Effect().reply(c.replyTo(), Done.getInstance());
        });
    // A repeated Accept after the commit (the reply was lost) is answered again.
    absent(b.forStateType(Finished.class).onCommand(Accept.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.ack())));
    return b.build();
  }

  private Content content(Queued state) {
    return new Content(queueId, state.sender(), state.arrivalMillis(), state.content());
  }

  /** No message here (never accepted, or finished): answer what asks, then leave memory. */
  private <S extends State> void absent(CommandHandlerWithReplyBuilderByState<Command, Event, S, State> b) {
    b.onCommand(GetContent.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error("no such message: " + queueId)))
        .onCommand(GetContentToDeliver.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error("no such message: " + queueId)))
        .onCommand(GetStatus.class, (s, c) -> Effect().reply(c.replyTo(), Optional.empty()))
        .onCommand(RecordResults.class, (s, c) -> Effect().reply(c.replyTo(), Done.getInstance()))
        .onCommand(Hold.class, (s, c) -> Effect().reply(c.replyTo(), Done.getInstance()))
        .onCommand(Release.class, (s, c) -> Effect().reply(c.replyTo(), Done.getInstance()))
        .onCommand(Delete.class, (s, c) -> Effect().reply(c.replyTo(), Done.getInstance()))
        .onCommand(Flush.class, (s, c) -> Effect().reply(c.replyTo(), Done.getInstance()))
        .onCommand(Stop.class, (s, c) -> Effect().stop().thenNoReply())
        .onAnyCommand(c -> passivate());
  }

  private ReplyEffect<Event, State> accept(Empty state, Accept command) {
    if (System.currentTimeMillis() > command.deadlineMillis()) {
      log.warn("warning: {}: accept arrived after its sender gave up; not queued", queueId);
      return Effect().reply(command.replyTo(), StatusReply.error("accept arrived after its deadline"));
    }
    awaitingCommit = command.replyTo();
    long started = System.nanoTime();
    return Effect().persist(command.message())
        .thenRun(s -> {
          Metrics.journalWrite(System.nanoTime() - started);
          awaitingCommit = null;
          resume((Queued) s);
        })
        .thenReply(command.replyTo(), s -> StatusReply.ack());
  }

  private ReplyEffect<Event, State> resume(Queued state) {
    if (state.allFinal()) {
      sendNotices(state);
      return Effect().noReply();
    }
    long now = System.currentTimeMillis();
    state.dueByRoute(now).forEach((route, recipients) ->
        queue.tell(new NodeQueue.Enqueue(queueId, route, recipients)));
    scheduleWake(state, now);
    warnIfDelayed(state, now);
    return Effect().noReply();
  }

  /**
   * Postfix's delay warning: once the message has waited delay_warning_time with recipients
   * still deferred, the sender hears about those (by their NOTIFY; never for the null
   * sender) in one RFC 3464 "delayed" report, and the postmaster gets a copy when
   * notify_classes has "delay". DelayWarned is journaled after the notices are queued, so
   * a crash in between may send it twice, never not at all.
   */
  private void warnIfDelayed(Queued state, long now) {
    if (delayWarningUnderWay || state.held() || state.delayWarningMillis(times) > now) return;
    delayWarningUnderWay = true;
    var owed = notices.delayWarning(state);
    ctx.pipeToSelf(notices.send(queueId, state, owed), (ids, failure) -> new DelayWarningQueued(owed, ids, failure));
  }

  private ReplyEffect<Event, State> delayWarningQueued(Queued state, DelayWarningQueued queued) {
    if (queued.failure() != null) {
      delayWarningUnderWay = false;
      return retryNoticeLater("delay notice", queued.failure());
    }
    long now = System.currentTimeMillis();
    return Effect().persist(new DelayWarned(state.withDelayWarned().sleepsUntilMillis(now, times))).thenRun(s -> {
      delayWarningUnderWay = false;
      for (int i = 0; i < queued.queueIds().size(); i++) {
        var who = queued.notices().get(i).postmasterCopy() ? "postmaster" : "sender";
        log.info("{}: {} delay notification: {}", queueId, who, queued.queueIds().get(i));
      }
      // A retry may have fallen due while the notices were queued: hand it out now, not a queue run later.
      resume((Queued) s);
    }).thenNoReply();
  }

  /** postqueue -f: hand out every open recipient now, deferred or not. */
  private void flush(Queued state) {
    if (state.held()) return;
    state.recipients().entrySet().stream()
        .filter(e -> !e.getValue().status().isFinal())
        .collect(Collectors.groupingBy(e -> e.getValue().route(), Collectors.mapping(Map.Entry::getKey, Collectors.toList())))
        .forEach((route, recipients) -> queue.tell(new NodeQueue.Enqueue(queueId, route, recipients)));
    // Everything is out now: hand it out again if no result comes back within a queue run.
    timers.startSingleTimer(new RetryDue(), times.queueRunDelay());
  }

  /**
   * Sets the timer for the next thing this entity does by itself, or leaves memory when that
   * is more than a queue run away (or the message is on hold): the queue run wakes a
   * sleeping message by its {@link #dueTag} and a held one when released, so a large
   * deferred queue costs journal rows, not heap.
   */
  private void scheduleWake(Queued state, long now) {
    long next = state.nextWakeMillis(now, times);
    if (asleep(state, now)) {
      timers.cancelAll();
      passivate();
    } else if (next != Long.MAX_VALUE) {
      timers.startSingleTimer(new RetryDue(), Duration.ofMillis(Math.max(0, next - now)));
    }
  }

  /** On hold, or nothing to do until more than a queue run from now: the queue run wakes it. */
  private boolean asleep(Queued state, long now) {
    long sleepsUntil = state.sleepsUntilMillis(now, times);
    return state.held() || (sleepsUntil > 0 && sleepsUntil - now > times.queueRunDelay().toMillis());
  }

  /**
   * Tags an event that leaves the message asleep with the second it wakes (fixed width: sorts
   * as text). Nothing else is tagged: a journal write whose batch holds a tagged event costs a
   * second statement (journals written before this tagged Completed "done", which sorts
   * before every due tag and goes with its message).
   */
  @Override
  public Set<String> tagsFor(Event event) {
    return switch (event) {
      case DeliveryAttempted a when a.sleepsUntilMillis() > 0 -> Set.of(dueTag(a.sleepsUntilMillis()));
      case DelayWarned w when w.sleepsUntilMillis() > 0 -> Set.of(dueTag(w.sleepsUntilMillis()));
      default -> Set.of();
    };
  }

  /** {@code due:} and the epoch second, zero-padded to 11 digits, so tags compare as the times do. */
  static String dueTag(long millis) {
    return String.format(Locale.ROOT, "due:%011d", Math.floorDiv(millis, 1000));
  }

  private ReplyEffect<Event, State> recordResults(Queued state, RecordResults command) {
    long now = System.currentTimeMillis();
    var open = command.results().stream()
        .filter(r -> state.recipients().containsKey(r.recipient()) && !state.recipients().get(r.recipient()).status().isFinal())
        .map(r -> expireIfTooOld(state, r, now))
        .toList();
    if (open.isEmpty()) return Effect().reply(command.replyTo(), Done.getInstance());
    var after = state.apply(new DeliveryAttempted(open, now, 0), times);
    var attempt = new DeliveryAttempted(open, now, after.sleepsUntilMillis(now, times));
    // Complete in the same write when no notice is owed; otherwise once the notices are queued.
    List<Event> events = new ArrayList<>(List.of(attempt));
    boolean notify = after.allFinal() && !notices.owed(after).isEmpty();
    if (after.allFinal() && !notify) events.add(new Completed());
    return Effect().persist(events)
        .thenRun(s -> {
          open.forEach(r -> log.info("{}: {}", queueId, r.logLine(state.arrivalMillis(), now)));
          if (notify) sendNotices((Queued) s);
          else afterAttempt(s, now);
          if (s instanceof Queued q && !q.allFinal()) warnIfDelayed(q, now);
        })
        .thenReply(command.replyTo(), s -> Done.getInstance());
  }

  /**
   * Queues the delivery status notices this finished message owes; it completes when they
   * are in the journal. Should that fail, or this node die first, the next wake-up sends
   * them again: a notice may come twice, never not at all.
   */
  private void sendNotices(Queued state) {
    timers.cancelAll();
    // A queue run's Wake (or a RetryDue) while the notices are being queued must not queue them again.
    if (noticesUnderWay) return;
    noticesUnderWay = true;
    var owed = notices.owed(state);
    ctx.pipeToSelf(notices.send(queueId, state, owed), (ids, failure) -> new NoticesQueued(ids, failure));
  }

  private ReplyEffect<Event, State> noticesQueued(Queued state, NoticesQueued queued) {
    if (queued.failure() != null) {
      noticesUnderWay = false;
      return retryNoticeLater("delivery status notice", queued.failure());
    }
    return Effect().persist(new Completed()).thenRun(s -> {
      queued.queueIds().forEach(id -> log.info("{}: sender delivery status notification: {}", queueId, id));
      afterAttempt(s, System.currentTimeMillis());
    }).thenNoReply();
  }

  /** A notice that could not be queued (the journal, a lookup table) is tried again after a queue run. */
  private ReplyEffect<Event, State> retryNoticeLater(String what, Throwable failure) {
    log.warn("warning: {}: cannot queue a {}: {}; trying again later", queueId, what, failure.getMessage());
    timers.startSingleTimer(new RetryDue(), times.queueRunDelay());
    return Effect().noReply();
  }

  /** A deferral past maximal_queue_lifetime is final: Postfix returns the mail as expired. */
  private RecipientResult expireIfTooOld(Queued state, RecipientResult r, long now) {
    if (r.outcome() != RecipientResult.Outcome.DEFERRED
        || now - state.arrivalMillis() < times.maximalLifetime().toMillis()) return r;
    return new RecipientResult(r.recipient(), RecipientResult.Outcome.BOUNCED, "4.4.7",
        "message expired after " + times.maximalLifetime().toSeconds() + "s in the queue: " + r.reply(), r.relay());
  }

  private void afterAttempt(State state, long now) {
    switch (state) {
      case Queued q -> scheduleWake(q, now);
      case Finished f -> {
        // Its rows leave the journal with the next queue run (QueueScanner's janitor step).
        timers.cancelAll();
        log.info("{}: removed", queueId);
        passivate();
      }
      case Empty e -> { }
    }
  }

  private ReplyEffect<Event, State> passivate() {
    entity.getShard().tell(new ClusterSharding.Passivate<>(self));
    return Effect().noReply();
  }

  // --- events and signals ---------------------------------------------------------------

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Empty.class)
        .onEvent(Accepted.class, (s, e) -> new Queued(e.sender(), e.arrivalMillis(), e.content(), initialRecipients(e), e.held(), e.dsn(), false));
    b.forStateType(Queued.class)
        .onEvent(DeliveryAttempted.class, (s, e) -> s.apply(e, times))
        .onEvent(Completed.class, (s, e) -> new Finished())
        .onEvent(DelayWarned.class, (s, e) -> s.withDelayWarned())
        .onEvent(HeldMessage.class, (s, e) -> s.withHeld(true))
        .onEvent(ReleasedMessage.class, (s, e) -> s.withHeld(false));
    return b.build();
  }

  private static Map<String, RecipientState> initialRecipients(Accepted accepted) {
    var map = new LinkedHashMap<String, RecipientState>();
    for (var r : accepted.recipients()) {
      map.putIfAbsent(r.address(), new RecipientState(r.route(), Status.PENDING, 0, "", "", "none", r.dsn()));
    }
    return map;
  }

  /**
   * An entity that stops with a journal write under way (the write failed) says so at once,
   * so smtpd answers 451 without waiting for its ask to time out.
   */
  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(PostStop.instance(), state -> {
          if (awaitingCommit != null) awaitingCommit.tell(StatusReply.error("queue file write error"));
          newMessages.forget(persistenceId().id());
        })
        .build();
  }
}

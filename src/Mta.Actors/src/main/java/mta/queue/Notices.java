package mta.queue;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import mta.dsn.Action;
import mta.dsn.DsnBuilder;
import mta.dsn.Notice;
import mta.dsn.NotifyPolicy;
import mta.dsn.OriginalMessage;
import mta.dsn.RecipientStatus;

/**
 * Postfix's bounce daemon for the queue: which delivery status notices a message owes (by
 * notify_classes and each recipient's NOTIFY): when it is finished, and the delay warning
 * about its deferred recipients; built as RFC 3464 reports and queued as new messages.
 */
public final class Notices {
  private final NotifyPolicy policy;
  private final DsnBuilder builder;
  private final Submission submission;

  public Notices(NotifyPolicy policy, DsnBuilder builder, Submission submission) {
    this.policy = policy;
    this.builder = builder;
    this.submission = submission;
  }

  /** The notices a message whose recipients are all final owes. */
  List<Notice> owed(Message.Queued message) {
    var statuses = message.recipients().entrySet().stream().map(e -> status(e.getKey(), e.getValue())).toList();
    return policy.notices(message.sender(), statuses);
  }

  /** The delay warning a message owes about its deferred recipients (the other ones are not in it). */
  List<Notice> delayWarning(Message.Queued message) {
    var statuses = message.recipients().entrySet().stream()
        .filter(e -> e.getValue().status() == Message.Status.DEFERRED)
        .map(e -> status(e.getKey(), e.getValue()))
        .toList();
    return statuses.isEmpty() ? List.of() : policy.notices(message.sender(), statuses);
  }

  /** Queues each notice; completes with their queue ids, in the order of {@code notices}. */
  CompletionStage<List<String>> send(String queueId, Message.Queued message, List<Notice> notices) {
    var original = new OriginalMessage(queueId, message.sender(), Instant.ofEpochMilli(message.arrivalMillis()),
        message.dsn().envid(), message.dsn().ret(), message.content());
    var queued = notices.stream()
        .map(n -> submission.submit(n.envelopeSender(), List.of(n.to()), builder.build(n, original)).toCompletableFuture())
        .toList();
    return CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new))
        .thenApply(x -> queued.stream().map(CompletableFuture::join).toList());
  }

  private static RecipientStatus status(String recipient, Message.RecipientState r) {
    var action = switch (r.status()) {
      case SENT -> Action.DELIVERED;
      case BOUNCED -> Action.FAILED;
      case PENDING, DEFERRED -> Action.DELAYED;
    };
    // "host mx.example[192.0.2.1]:25 said: 550 5.1.1 ..." gives the Remote-MTA and the Diagnostic-Code.
    var said = r.reason().indexOf(" said: ");
    var remote = r.relay().contains("[") ? r.relay().substring(0, r.relay().indexOf('[')) : "";
    var reply = r.reason().startsWith("host ") && said > 0 ? r.reason().substring(said + " said: ".length()) : "";
    return new RecipientStatus(recipient, r.request().orcpt(), r.request().notifyOn(), action, r.dsn(), r.reason(), remote, reply);
  }
}

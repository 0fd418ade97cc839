package mta.queue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import mta.mail.Dsn;
import mta.mail.MailAddress;
import mta.routing.Route;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Queues a message made inside the MTA (a delivery status notice, a copy forwarded by an
 * alias), as Postfix's bounce and local daemons hand their mail to cleanup: each recipient is
 * routed, a new Message entity accepts the message, and the returned stage completes with
 * the new queue id once the journal has it.
 */
public final class Submission {
  private final ClusterSharding sharding;
  private final String home;
  private final BiFunction<MailAddress, MailAddress, Route> router;
  private final Duration timeout;

  /** {@code router}: trivial-rewrite's resolve step, (sender, recipient) to route. */
  public Submission(ActorSystem<?> system, BiFunction<MailAddress, MailAddress, Route> router, Duration timeout) {
    this.sharding = ClusterSharding.get(system);
    this.home = QueueId.homeTag(system);
    this.router = router;
    this.timeout = timeout;
  }

  public CompletionStage<String> submit(String sender, List<String> recipients, byte[] content) {
    var queueId = QueueId.next(home);
    var from = MailAddress.parse(sender);
    List<Message.RoutedRecipient> routed;
    try {
      routed = recipients.stream()
          .map(r -> new Message.RoutedRecipient(r, router.apply(from, MailAddress.parse(r)).toString(), Dsn.Rcpt.NONE))
          .toList();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e); // a lookup table that cannot answer now
    }
    var accepted = new Message.Accepted(sender, routed, System.currentTimeMillis(), content, false, Dsn.Mail.NONE);
    return Message.accept(sharding, queueId, accepted, timeout).thenApply(done -> queueId);
  }
}

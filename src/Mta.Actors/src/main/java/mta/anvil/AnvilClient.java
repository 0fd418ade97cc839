package mta.anvil;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.LoggerFactory;

/**
 * What smtpd tells anvil, one method per SMTP event (Postfix's anvil_clnt): {@code connect},
 * {@code mail}, {@code rcpt}, {@code auth}; a disconnect is noticed by the entity itself.
 *
 * <p>Anvil is advisory: when it does not answer in time, smtpd logs a warning and carries on
 * without the limit (as Postfix's smtpd does when its anvil server is unavailable), so a slow
 * or moving shard never stops mail. {@code mail} and {@code auth} wait for their answer; the
 * session runs on a dispatcher made for waiting.
 */
public interface AnvilClient {

  /** A new session of {@code address}; it is counted until {@code session} stops. */
  CompletionStage<Anvil.Connected> connect(String address, ActorRef<?> session);

  /** A MAIL command; null when anvil did not answer (no limit then). */
  Anvil.MailCounted mail(String address);

  /** A RCPT command, counted without an answer. */
  void rcpt(String address);

  /** An AUTH command: the AUTH rate; 0 when anvil did not answer (no limit then). */
  int auth(String address);

  /** The cluster's anvil: {@link Anvil} entities, asked with {@code timeout}. */
  static AnvilClient sharded(ClusterSharding sharding, Duration timeout) {
    return new Sharded(sharding, timeout);
  }

  final class Sharded implements AnvilClient {
    private final ClusterSharding sharding;
    private final Duration timeout;

    private Sharded(ClusterSharding sharding, Duration timeout) {
      this.sharding = sharding;
      this.timeout = timeout;
    }

    @Override
    public CompletionStage<Anvil.Connected> connect(String address, ActorRef<?> session) {
      return entity(address).ask(replyTo -> new Anvil.Connect(session, replyTo), timeout);
    }

    @Override
    public Anvil.MailCounted mail(String address) {
      return await(address, entity(address).ask(Anvil.Mail::new, timeout));
    }

    @Override
    public void rcpt(String address) {
      entity(address).tell(new Anvil.Rcpt());
    }

    @Override
    public int auth(String address) {
      var counted = await(address, entity(address).ask(Anvil.Auth::new, timeout));
      return counted == null ? 0 : counted.rate();
    }

    private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<Anvil.Command> entity(String address) {
      return sharding.entityRefFor(Anvil.ENTITY_TYPE_KEY, address);
    }

    private <T> T await(String address, CompletionStage<T> answer) {
      try {
        return answer.toCompletableFuture().get(timeout.toMillis() + 100, TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        unavailable(address, e);
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
  }

  /** The warning of a limit not applied, for the session's connect ask too. */
  static void unavailable(String address, Throwable why) {
    var cause = why instanceof ExecutionException || why instanceof java.util.concurrent.CompletionException ? why.getCause() : why;
    LoggerFactory.getLogger("smtpd").warn("warning: anvil: no answer about {}: {}; carrying on without client limits",
        address, cause == null ? "timeout" : cause.getClass().getSimpleName());
  }
}

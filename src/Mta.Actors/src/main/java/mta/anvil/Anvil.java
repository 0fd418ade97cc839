package mta.anvil;

import java.time.Duration;
import mta.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The counters of one client address for the whole cluster (Postfix's anvil server), sharded by
 * that address: every smtpd session of every node reports to the same entity, so a limit holds
 * however a client spreads its connections over the nodes.
 *
 * <p>Soft state, as in Postfix: nothing is persisted, an entity passivates once its client has
 * no connection open and its rate interval has run out, and a restart or a rebalance forgets.
 * A connection is counted until its session actor stops, which the entity watches, so a node
 * that dies takes its connections off the count too.
 */
public final class Anvil {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Anvil");

  // --- commands and replies -------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** A session has started for this client; it counts until {@code session} stops. */
  public record Connect(ActorRef<?> session, ActorRef<Connected> replyTo) implements Command {}

  /** @param count connections open now, this one included; @param rate connections in this interval */
  public record Connected(int count, int rate) implements CborSerializable {}

  /** A MAIL command. */
  public record Mail(ActorRef<MailCounted> replyTo) implements Command {}

  /** @param messages MAIL commands in this interval, this one included; @param recipients RCPT commands */
  public record MailCounted(int messages, int recipients) implements CborSerializable {}

  /** A RCPT command; smtpd counts on from the {@link MailCounted} it got, so there is no reply. */
  public record Rcpt() implements Command {}

  /** An AUTH command. */
  public record Auth(ActorRef<AuthCounted> replyTo) implements Command {}

  /** @param rate AUTH commands in this interval, this one included */
  public record AuthCounted(int rate) implements CborSerializable {}

  private record SessionEnded() implements Command {}

  private record Tick() implements Command {}

  // --- set-up ---------------------------------------------------------------------------

  /** Registers the entity on this node; {@code timeUnit} is {@code anvil_rate_time_unit}. */
  public static void init(ActorSystem<?> system, Duration timeUnit, String role) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx, timeUnit)).withRole(role));
  }

  static Behavior<Command> create(EntityContext<Command> entity, Duration timeUnit) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      var counts = new ClientCounts(timeUnit.toMillis());
      // Looked at once per interval: an entity outlives its last event by one to two intervals.
      timers.startTimerWithFixedDelay(new Tick(), timeUnit);
      return Behaviors.receive(Command.class)
          .onMessage(Connect.class, c -> {
            ctx.watchWith(c.session(), new SessionEnded());
            c.replyTo().tell(counts.connect(System.currentTimeMillis()));
            return Behaviors.same();
          })
          .onMessage(SessionEnded.class, e -> {
            counts.disconnect();
            return Behaviors.same();
          })
          .onMessage(Mail.class, m -> {
            m.replyTo().tell(counts.mail(System.currentTimeMillis()));
            return Behaviors.same();
          })
          .onMessage(Rcpt.class, r -> {
            counts.rcpt(System.currentTimeMillis());
            return Behaviors.same();
          })
          .onMessage(Auth.class, a -> {
            a.replyTo().tell(new AuthCounted(counts.auth(System.currentTimeMillis())));
            return Behaviors.same();
          })
          .onMessage(Tick.class, t -> {
            if (counts.forgettable(System.currentTimeMillis())) entity.getShard().tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
            return Behaviors.same();
          })
          .build();
    }));
  }

  private Anvil() {}
}

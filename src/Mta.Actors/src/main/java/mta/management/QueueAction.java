package mta.management;

import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import mta.queue.Message;
import mta.queue.Message.MessageStatus;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the operator can do to a message (postsuper, postqueue): which messages it changes, the
 * Message command that does it, and the words for what was done.
 */
public enum QueueAction {
  HOLD("placed on hold", s -> !s.held(), Message.Hold::new),
  RELEASE("released from hold", MessageStatus::held, Message.Release::new),
  /** postqueue -f / -i / -s: open recipients go to their destination queues now, deferred or not. */
  FLUSH("flushed", s -> !s.held(), Message.Flush::new),
  /**
   * postsuper -r, for now: a flush. Postfix also runs the message through cleanup again
   * (rewriting, new routes); this does not yet, and a held message stays held.
   */
  REQUEUE("requeued", s -> !s.held(), Message.Flush::new),
  DELETE("deleted", s -> true, Message.Delete::new);

  /** What an action did: its word and how many messages it changed. */
  public record Result(String action, int messages) {}

  private final String done;
  private final Predicate<MessageStatus> applies;
  private final Function<ActorRef<Done>, Message.Command> command;

  QueueAction(String done, Predicate<MessageStatus> applies, Function<ActorRef<Done>, Message.Command> command) {
    this.done = done;
    this.applies = applies;
    this.command = command;
  }

  /** The name in routes and on mtactl's command line: {@code hold}, {@code release}, ... */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** {@code placed on hold}, as postsuper reports it. */
  public String done() {
    return done;
  }

  boolean appliesTo(MessageStatus status) {
    return applies.test(status);
  }

  Message.Command command(ActorRef<Done> replyTo) {
    return command.apply(replyTo);
  }

  public static QueueAction of(String word) {
    return valueOf(word.toUpperCase(Locale.ROOT));
  }
}

package mta.queue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The Message entities of this node that are starting for a message smtpd has just received:
 * their queue ids are new, so the journal holds nothing under them and {@link MessageJournal}
 * answers their recovery's question (the highest sequence number written) without asking the
 * database. Each starting entity says which it is before its recovery begins ({@link
 * #expect}, {@link #forget}); sharding runs one entity per id on a node, so what is here for
 * an id is always its current entity's word, and the journal's question is that entity's.
 */
final class NewMessages implements Extension {
  private static final ExtensionId<NewMessages> ID = new ExtensionId<>() {
    @Override
    public NewMessages createExtension(ActorSystem<?> system) {
      return new NewMessages();
    }
  };

  private final Set<String> starting = ConcurrentHashMap.newKeySet();

  static NewMessages get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The entity of {@code persistenceId} is starting for a new message. */
  void expect(String persistenceId) {
    starting.add(persistenceId);
  }

  /** The entity of {@code persistenceId} is starting for a message that may be in the journal, or has stopped. */
  void forget(String persistenceId) {
    starting.remove(persistenceId);
  }

  /** For the journal: true once if {@code persistenceId}'s entity is starting for a new message. */
  boolean claim(String persistenceId) {
    return starting.remove(persistenceId);
  }
}

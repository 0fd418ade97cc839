package mta.queue;

import com.typesafe.config.Config;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal;
import scala.concurrent.Future;

/**
 * The journal plugin (hocon/mta-node.conf): pekko-persistence-jdbc's, except for the first
 * question a new message's entity asks. Every entity's recovery, even one with nothing to
 * replay ({@code Recovery.disabled}), starts with the highest sequence number written under
 * its id, so that its writes continue from there: for each received message that was one SQL
 * query, a transaction of its own, and a hand-off to a database thread and back before the
 * content could be written. A message smtpd has just received has a new queue id, so the
 * answer is 0 ({@link NewMessages}). Should the id exist after all, the entity's first write
 * (event 1) collides with the journal's primary key and fails: smtpd answers 451, and what
 * the journal holds is untouched.
 */
public final class MessageJournal extends JdbcAsyncWriteJournal {
  private final NewMessages newMessages;

  public MessageJournal(Config config) {
    super(config);
    newMessages = NewMessages.get(Adapter.toTyped(system()));
  }

  @Override
  public Future<Object> asyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
    return newMessages.claim(persistenceId) ? Future.<Object>successful(0L)
        : super.asyncReadHighestSequenceNr(persistenceId, fromSequenceNr);
  }
}

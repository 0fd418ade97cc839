package mta.delivery.local;

import java.util.List;

/**
 * What became of one recipient of local delivery. The mailbox writers answer
 * {@link Delivered}, {@link Deferred} or {@link Bounced}; {@link LocalDelivery} may also
 * answer {@link Forwarded} when aliases point elsewhere.
 */
public sealed interface LocalResult {

  /** Written to disk and synced; {@code detail} as Postfix logs it: {@code delivered to maildir}. */
  record Delivered(String detail) implements LocalResult {}

  /**
   * Whatever was local is written; the recipient must now be sent on to {@code addresses}
   * (alias members elsewhere), with the original envelope sender, as a new message. Only
   * once that message is queued is this recipient done.
   */
  record Forwarded(List<String> addresses, String detail) implements LocalResult {
    public Forwarded {
      addresses = List.copyOf(addresses);
    }
  }

  /** Try again later: {@code 4.x.x}, e.g. a full disk or a mailbox locked by someone else. */
  record Deferred(String dsn, String reason) implements LocalResult {}

  /** Never deliverable: {@code 5.x.x}, e.g. an unknown user or a mailbox over its size limit. */
  record Bounced(String dsn, String reason) implements LocalResult {}
}

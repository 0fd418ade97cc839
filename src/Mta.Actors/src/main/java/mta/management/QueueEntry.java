package mta.management;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import mta.queue.Message.MessageStatus;
import mta.queue.Message.RecipientState;
import mta.queue.Message.Status;

/**
 * One message as mailq lists it, in the shape of {@code postqueue -j}: the queue it is in, its
 * id, arrival time (epoch seconds), size, sender, and the recipients still open, each with the
 * reason of its last deferral.
 *
 * <p>Postfix's queues are directories; here they are read off the Message entity's status:
 * {@code hold} when held, {@code active} when a recipient is with its destination queue now
 * (pending, or deferred and due), {@code deferred} when every open recipient waits for its
 * next attempt.
 */
public record QueueEntry(String queueName, String queueId, long arrivalTime, long messageSize, String sender,
    List<Recipient> recipients) {

  public static final String ACTIVE = "active";
  public static final String DEFERRED = "deferred";
  public static final String HOLD = "hold";
  public static final List<String> QUEUES = List.of(ACTIVE, DEFERRED, HOLD);

  /** {@code delayReason} is empty when there is none (and then left out of the JSON, as postqueue -j does). */
  public record Recipient(String address, @JsonInclude(JsonInclude.Include.NON_EMPTY) String delayReason) {
    public Recipient {
      delayReason = delayReason == null ? "" : delayReason;
    }
  }

  public static QueueEntry of(MessageStatus status, long nowMillis) {
    var open = status.recipients().entrySet().stream()
        .filter(e -> isOpen(e.getValue()))
        .map(e -> new Recipient(e.getKey(), e.getValue().status() == Status.DEFERRED ? e.getValue().reason() : ""))
        .toList();
    return new QueueEntry(queueName(status, nowMillis), status.queueId(), status.arrivalMillis() / 1000, status.size(),
        status.sender(), open);
  }

  static String queueName(MessageStatus status, long nowMillis) {
    if (status.held()) return HOLD;
    return status.recipients().values().stream().anyMatch(r -> r.status() == Status.PENDING
        || (r.status() == Status.DEFERRED && r.notBeforeMillis() <= nowMillis)) ? ACTIVE : DEFERRED;
  }

  static boolean isOpen(RecipientState r) {
    return r.status() == Status.PENDING || r.status() == Status.DEFERRED;
  }

  /** True when a recipient still open is at {@code domain} (postqueue -s). */
  static boolean hasOpenRecipientAt(MessageStatus status, String domain) {
    return status.recipients().entrySet().stream()
        .anyMatch(e -> isOpen(e.getValue()) && domainOf(e.getKey()).equalsIgnoreCase(domain));
  }

  static String domainOf(String address) {
    int at = address.lastIndexOf('@');
    return at < 0 ? address : address.substring(at + 1);
  }
}

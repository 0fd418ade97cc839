package mta.management;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import mta.queue.Message.MessageStatus;

/**
 * One message in full, as {@code postcat -q} shows it: the envelope, every recipient with its
 * route, state, next attempt (epoch seconds, 0 when none is due) and last reason, the header,
 * and the body when asked for.
 */
public record MessageView(String queueName, String queueId, long arrivalTime, long messageSize, String sender,
    List<RecipientView> recipients, String headers, String body) {

  public record RecipientView(String address, String route, String status, long nextAttempt, String reason) {}

  static MessageView of(MessageStatus status, byte[] content, boolean withBody, long nowMillis) {
    var text = new String(content, StandardCharsets.UTF_8);
    var blank = text.indexOf("\r\n\r\n");
    var headers = blank < 0 ? text : text.substring(0, blank + 2);
    var body = blank < 0 ? "" : text.substring(blank + 4);
    var recipients = status.recipients().entrySet().stream()
        .map(e -> new RecipientView(e.getKey(), e.getValue().route(), e.getValue().status().name().toLowerCase(Locale.ROOT),
            e.getValue().notBeforeMillis() / 1000, e.getValue().reason()))
        .toList();
    return new MessageView(QueueEntry.queueName(status, nowMillis), status.queueId(), status.arrivalMillis() / 1000,
        status.size(), status.sender(), recipients, headers, withBody ? body : null);
  }
}

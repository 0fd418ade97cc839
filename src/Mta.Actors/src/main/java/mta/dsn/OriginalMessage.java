package mta.dsn;

import java.time.Instant;
import mta.mail.Dsn;

/**
 * The message a notice is about.
 *
 * @param queueId its queue id: {@code X-Queue-ID}
 * @param sender its envelope sender (empty for the null sender): {@code X-Sender}
 * @param arrival when it was queued: {@code Arrival-Date}
 * @param envid the MAIL FROM ENVID parameter, decoded; empty or null when none was given:
 *     {@code Original-Envelope-Id}
 * @param ret the MAIL FROM RET parameter; null when none was given, which means FULL, as in Postfix
 * @param content the message as queued (CRLF or LF line endings)
 */
public record OriginalMessage(String queueId, String sender, Instant arrival, String envid, Dsn.Ret ret, byte[] content) {
  public OriginalMessage {
    envid = envid == null ? "" : envid;
    ret = ret == null ? Dsn.Ret.FULL : ret;
  }
}

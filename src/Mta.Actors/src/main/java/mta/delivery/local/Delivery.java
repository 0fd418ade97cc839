package mta.delivery.local;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One message for one mailbox.
 *
 * @param sender the envelope sender, empty for the null sender
 * @param originalRecipient the recipient as the message was addressed (before alias expansion)
 * @param recipient the address being delivered now
 * @param content the message as queued (CRLF or LF line endings)
 */
public record Delivery(String sender, String originalRecipient, String recipient, byte[] content) {

  /**
   * The message as it is stored: the headers Postfix's local prepends ({@code Return-Path},
   * {@code X-Original-To}, {@code Delivered-To}), then the content, all with Unix line endings
   * and ending in a newline.
   */
  byte[] stored() {
    var out = new ByteArrayOutputStream(content.length + 256);
    out.writeBytes(("Return-Path: <" + sender + ">\n"
        + "X-Original-To: " + originalRecipient + "\n"
        + "Delivered-To: " + recipient + "\n").getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < content.length; i++) {
      if (content[i] == '\r' && i + 1 < content.length && content[i + 1] == '\n') continue;
      out.write(content[i]);
    }
    if (content.length > 0 && content[content.length - 1] != '\n') out.write('\n');
    return out.toByteArray();
  }
}

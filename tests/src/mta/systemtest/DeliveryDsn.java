package mta.systemtest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.james.mime4j.dom.Body;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.message.DefaultMessageWriter;
import org.apache.james.mime4j.stream.MimeConfig;

/**
 * A delivery status notification (RFC 3464) as a sink received it, parsed with mime4j: the
 * top-level type and report-type, the three parts, and the message/delivery-status fields
 * (the per-message group first, then one group per recipient; names in lower case).
 */
record DeliveryDsn(
    String mimeType,
    String reportType,
    String envelopeSender,
    List<String> partTypes,
    String notification,
    List<Map<String, String>> statusGroups,
    String originalType,
    String original) {

  /** The per-recipient groups of the delivery-status part. */
  List<Map<String, String>> recipients() {
    return statusGroups.size() <= 1 ? List.of() : statusGroups.subList(1, statusGroups.size());
  }

  /** The per-recipient group whose Final-Recipient is {@code rfc822; address}, or null. */
  Map<String, String> recipient(String address) {
    for (var g : recipients()) {
      var fr = g.getOrDefault("final-recipient", "");
      if (fr.replaceFirst("(?i)^rfc822;\\s*", "").equalsIgnoreCase(address)) return g;
    }
    return null;
  }

  /** Is this sink dump a DSN (null sender, multipart/report)? */
  static boolean isDsn(String dump) {
    return dump.contains("X-Mail-Args: <>") && dump.toLowerCase(Locale.ROOT).contains("multipart/report");
  }

  /** Parses a smtp-sink dump (its X- headers and Received line come first, then the message). */
  static DeliveryDsn parse(String dump) {
    try {
      var config = MimeConfig.custom().setMaxLineLen(-1).setMaxHeaderLen(-1).setMaxHeaderCount(-1).build();
      var builder = new DefaultMessageBuilder();
      builder.setMimeEntityConfig(config);
      Message message = builder.parseMessage(new ByteArrayInputStream(dump.getBytes(StandardCharsets.ISO_8859_1)));
      var mailArgs = message.getHeader().getField("X-Mail-Args");
      String sender = mailArgs == null ? null : mailArgs.getBody().trim();
      String reportType = null;
      var ct = message.getHeader().getField("Content-Type");
      if (ct instanceof org.apache.james.mime4j.dom.field.ContentTypeField f) reportType = f.getParameter("report-type");
      var types = new ArrayList<String>();
      String notification = null;
      List<Map<String, String>> groups = List.of();
      String originalType = null;
      String original = null;
      if (message.getBody() instanceof Multipart mp) {
        var parts = mp.getBodyParts();
        for (Entity part : parts) types.add(part.getMimeType());
        if (parts.size() > 0) notification = text(parts.get(0).getBody());
        if (parts.size() > 1) groups = groups(text(parts.get(1).getBody()));
        if (parts.size() > 2) {
          originalType = parts.get(2).getMimeType();
          original = text(parts.get(2).getBody());
        }
      }
      return new DeliveryDsn(message.getMimeType(), reportType, sender, List.copyOf(types), notification, groups,
          originalType, original);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String text(Body body) throws IOException {
    if (body instanceof SingleBody single) {
      try (InputStream in = single.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      }
    }
    if (body instanceof Message embedded) {
      var out = new java.io.ByteArrayOutputStream();
      new DefaultMessageWriter().writeMessage(embedded, out);
      return out.toString(StandardCharsets.ISO_8859_1);
    }
    return String.valueOf(body);
  }

  /** RFC 3464 field groups: blank-line separated, folded lines unfolded, names lower-cased. */
  static List<Map<String, String>> groups(String text) {
    var groups = new ArrayList<Map<String, String>>();
    for (var block : text.replace("\r\n", "\n").split("\n\\s*\n")) {
      var unfolded = block.replaceAll("\n[ \t]+", " ");
      var fields = new LinkedHashMap<String, String>();
      for (var line : unfolded.split("\n")) {
        int colon = line.indexOf(':');
        if (colon > 0) fields.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
      }
      if (!fields.isEmpty()) groups.add(fields);
    }
    return groups;
  }

  @Override
  public String toString() {
    return "DSN " + mimeType + "; report-type=" + reportType + " from " + envelopeSender + " parts=" + partTypes
        + "\n  status groups: " + statusGroups + "\n  original (" + originalType + "): "
        + (original == null ? null : original.lines().limit(12).toList());
  }
}

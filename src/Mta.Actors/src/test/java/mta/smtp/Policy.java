package mta.smtp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.util.Optional;
import mta.config.MtaConfig;
import mta.mail.MailAddress;

/**
 * Test support: an smtpd policy built exactly as a node builds it, from HOCON layered over the
 * defaults (reference.conf), and the session facts a stage is asked about.
 */
final class Policy {
  static final String HOST = "mx.example.net";

  private Policy() {}

  /** The node's smtpd services for this configuration (no cluster: sharding is null). */
  static SmtpdServices services(String hocon) {
    try {
      var file = Files.createTempFile("policy", ".conf");
      file.toFile().deleteOnExit();
      Files.writeString(file, "mta.myhostname = \"" + HOST + "\"\n" + hocon);
      return SmtpdServices.from(MtaConfig.load(Optional.of(file)), null, "tst");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static SmtpChecks checks(String hocon) {
    return services(hocon).checks();
  }

  static ClientInfo client(String address, String hostname) {
    try {
      return new ClientInfo(InetAddress.getByName(address), 25000, hostname);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** The recipient as it comes off the wire, so that the parser's part in each trick is tested too. */
  static MailAddress rcpt(String path) {
    var parsed = (SmtpCommand.Parsed.Command) SmtpCommand.parse("RCPT TO:" + path);
    return ((SmtpCommand.Rcpt) parsed.command()).recipient();
  }

  /** RCPT TO from {@code client}, after {@code HELO helo} and {@code MAIL FROM:<sender>}. */
  static SmtpdState rcptState(ClientInfo client, String helo, MailAddress sender, MailAddress recipient) {
    return new SmtpdState("RCPT", client, helo, "ESMTP", sender, recipient, 0, null, null, false, 0, "1.1", false, null);
  }

  /** The reply a RCPT gets, as one line, or "ok". */
  static String rcpt(SmtpChecks checks, ClientInfo client, String sender, String recipient) {
    var verdict = checks.rcpt(rcptState(client, "client.example", MailAddress.parse(sender), rcpt(recipient)));
    return verdict.reply() == null ? "ok" : verdict.reply().oneLine();
  }
}

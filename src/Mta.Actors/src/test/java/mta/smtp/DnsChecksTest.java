package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import mta.mail.MailAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The restrictions that ask the DNS — DNSBL (RFC 5782), RHSBL, unknown domains and HELO
 * names, permit_mx_backup — against a real dnsmasq.
 */
class DnsChecksTest {
  private static final String OURS = """
      mta.mynetworks = [ "127.0.0.0/8" ]
      mta.mydestination = [ "example.net" ]
      """;
  private static final ClientInfo LISTED = Policy.client("192.0.2.66", "listed.client.example");
  private static final ClientInfo FILTERED = Policy.client("192.0.2.67", "filtered.client.example");
  private static final ClientInfo CLEAN = Policy.client("192.0.2.10", "clean.client.example");
  private static final ClientInfo IPV6 = Policy.client("2001:db8::5", "v6.client.example");
  private static Dnsmasq dns;

  @BeforeAll
  static void startDns() throws IOException, InterruptedException {
    dns = Dnsmasq.start(
        "--host-record=66.2.0.192.zen.test,127.0.0.2",
        "--txt-record=66.2.0.192.zen.test,Listed by zen.test see http://zen.test/66",
        "--host-record=67.2.0.192.zen.test,127.0.0.10",
        "--host-record=5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.test,127.0.0.3",
        "--host-record=spammer.example.dbl.test,127.0.1.2",
        "--host-record=bad.helo.example.dbl.test,127.0.1.2",
        "--mx-host=good.example,mx.good.example,10",
        "--host-record=mx.good.example,192.0.2.1",
        "--host-record=aonly.example,192.0.2.2",
        "--host-record=mail.good.example,192.0.2.3",
        "--mx-host=nullmx.example,.,0",
        "--mx-host=backup.example,primary.elsewhere.example,10",
        "--mx-host=backup.example,mx.ours.example,20",
        "--mx-host=primary.example,mx.ours.example,10",
        "--host-record=mx.ours.example,127.0.0.1",
        "--host-record=primary.elsewhere.example,192.0.2.200");
  }

  @AfterAll
  static void stopDns() {
    dns.close();
  }

  private static SmtpChecks checks(String settings) {
    return Policy.checks(OURS + dns.setting() + settings);
  }

  private static String rcpt(SmtpChecks checks, ClientInfo client, String helo, String sender, String recipient) {
    var verdict = checks.rcpt(Policy.rcptState(client, helo, MailAddress.parse(sender), Policy.rcpt(recipient)));
    return verdict.reply() == null ? "ok" : verdict.reply().oneLine();
  }

  @Test
  void rblClientWithTxtReason() {
    var checks = checks("mta.smtpd_client_restrictions = [ reject_rbl_client zen.test ]");
    assertEquals("554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.test; Listed by zen.test see http://zen.test/66",
        rcpt(checks, LISTED, "h.example", "a@remote.example", "<b@example.net>"));
    assertEquals("554 5.7.1 Service unavailable; Client host [192.0.2.67] blocked using zen.test",
        rcpt(checks, FILTERED, "h.example", "a@remote.example", "<b@example.net>"));
    assertEquals("ok", rcpt(checks, CLEAN, "h.example", "a@remote.example", "<b@example.net>"));
  }

  @Test
  void rblClientIpv6Nibbles() {
    var checks = checks("mta.smtpd_client_restrictions = [ reject_rbl_client zen.test ]");
    assertEquals("554 5.7.1 Service unavailable; Client host [2001:db8:0:0:0:0:0:5] blocked using zen.test",
        rcpt(checks, IPV6, "h.example", "a@remote.example", "<b@example.net>"));
  }

  @Test
  void rblReplyFilter() {
    var checks = checks("mta.smtpd_client_restrictions = [ \"reject_rbl_client zen.test=127.0.0.[2..4]\" ]");
    assertEquals("554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.test; Listed by zen.test see http://zen.test/66",
        rcpt(checks, LISTED, "h.example", "a@remote.example", "<b@example.net>"));
    assertEquals("ok", rcpt(checks, FILTERED, "h.example", "a@remote.example", "<b@example.net>"));
  }

  @Test
  void rhsblSenderAndHelo() {
    var checks = checks("mta.smtpd_sender_restrictions = [ reject_rhsbl_sender dbl.test, reject_rhsbl_helo dbl.test ]");
    assertEquals("554 5.7.1 Service unavailable; Sender address [bob@spammer.example] blocked using dbl.test",
        rcpt(checks, CLEAN, "h.example", "bob@spammer.example", "<b@example.net>"));
    assertEquals("554 5.7.1 Service unavailable; Helo command [bad.helo.example] blocked using dbl.test",
        rcpt(checks, CLEAN, "bad.helo.example", "bob@good.example", "<b@example.net>"));
    assertEquals("ok", rcpt(checks, CLEAN, "h.example", "bob@good.example", "<b@example.net>"));
  }

  @Test
  void unknownSenderDomain() {
    var checks = checks("mta.smtpd_sender_restrictions = [ reject_unknown_sender_domain ]");
    assertEquals("ok", rcpt(checks, CLEAN, "h.example", "a@good.example", "<b@example.net>"));
    assertEquals("ok", rcpt(checks, CLEAN, "h.example", "a@aonly.example", "<b@example.net>"));
    assertEquals("450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not found",
        rcpt(checks, CLEAN, "h.example", "a@nowhere.example", "<b@example.net>"));
    assertEquals("550 5.7.27 <a@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail (nullMX)",
        rcpt(checks, CLEAN, "h.example", "a@nullmx.example", "<b@example.net>"));
    // A DNS failure (this server refuses other zones) defers, if nothing else rejects.
    assertEquals("450 4.1.8 <a@broken.invalid>: Sender address rejected: Domain not found",
        rcpt(checks, CLEAN, "h.example", "a@broken.invalid", "<b@example.net>"));
    assertEquals("ok", rcpt(checks, CLEAN, "h.example", "", "<b@example.net>"));
  }

  @Test
  void aDnsFailureDoesNotStopALaterReject() {
    var checks = checks("mta.smtpd_sender_restrictions = [ reject_unknown_sender_domain, \"check_sender_access inline:{ broken.invalid=REJECT }\" ]");
    assertEquals("554 5.7.1 <a@broken.invalid>: Sender address rejected: Access denied",
        rcpt(checks, CLEAN, "h.example", "a@broken.invalid", "<b@example.net>"));
  }

  @Test
  void unknownRecipientDomain() {
    var checks = checks("mta.smtpd_recipient_restrictions = [ reject_unknown_recipient_domain ]");
    var local = Policy.client("127.0.0.1", "localhost");
    assertEquals("450 4.1.2 <b@nowhere.example>: Recipient address rejected: Domain not found",
        rcpt(checks, local, "h.example", "a@good.example", "<b@nowhere.example>"));
    assertEquals("ok", rcpt(checks, local, "h.example", "a@good.example", "<b@good.example>"));
    assertEquals("ok", rcpt(checks, CLEAN, "h.example", "a@good.example", "<b@example.net>"));
  }

  @Test
  void unknownHeloHostname() {
    var checks = checks("mta.smtpd_helo_restrictions = [ reject_unknown_helo_hostname ]");
    assertEquals("ok", rcpt(checks, CLEAN, "mail.good.example", "a@good.example", "<b@example.net>"));
    assertEquals("450 4.7.1 <ghost.example>: Helo command rejected: Host not found",
        rcpt(checks, CLEAN, "ghost.example", "a@good.example", "<b@example.net>"));
  }

  @Test
  void permitMxBackup() {
    var checks = checks("mta.smtpd_relay_restrictions = [ permit_mynetworks, permit_mx_backup, reject_unauth_destination ]");
    assertEquals("ok", rcpt(checks, CLEAN, "h.example", "a@good.example", "<b@backup.example>"));
    assertEquals("554 5.7.1 <b@primary.example>: Relay access denied", rcpt(checks, CLEAN, "h.example", "a@good.example", "<b@primary.example>"));
    assertEquals("554 5.7.1 <b@good.example>: Relay access denied", rcpt(checks, CLEAN, "h.example", "a@good.example", "<b@good.example>"));
    assertEquals("554 5.7.1 <b%x.example@backup.example>: Relay access denied",
        rcpt(checks, CLEAN, "h.example", "a@good.example", "<b%x.example@backup.example>"));
  }
}

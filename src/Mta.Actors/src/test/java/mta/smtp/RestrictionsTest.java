package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import mta.config.ConfigError;
import mta.mail.MailAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import mta.LogCapture;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each restriction, access table result and recipient table, through the engine a node builds
 * from its settings, with tables in real files. DNS and policy servers have their own tests.
 */
class RestrictionsTest {
  private static final String OURS = """
      mta.mynetworks = [ "127.0.0.0/8" ]
      mta.mydestination = [ "example.net", "$myhostname" ]
      mta.relay_domains = [ "relay.example" ]
      """;
  private static final ClientInfo STRANGER = Policy.client("192.0.2.10", "mail.client.example");
  private static final ClientInfo NAMELESS = Policy.client("198.51.100.7", "unknown");

  @TempDir
  Path dir;

  @RegisterExtension
  final LogCapture logged = new LogCapture("smtpd");

  private String file(String name, String text) throws IOException {
    var path = dir.resolve(name);
    Files.writeString(path, text);
    return path.toString();
  }

  private static SmtpChecks checks(String settings) {
    return Policy.checks(OURS + settings);
  }

  private static String rcpt(SmtpChecks checks, ClientInfo client, String helo, String sender, String recipient) {
    var verdict = checks.rcpt(Policy.rcptState(client, helo, MailAddress.parse(sender), Policy.rcpt(recipient)));
    return verdict.reply() == null ? "ok" : verdict.reply().oneLine();
  }

  private static String rcpt(SmtpChecks checks, String sender, String recipient) {
    return rcpt(checks, STRANGER, "mail.client.example", sender, recipient);
  }

  // --- access tables ------------------------------------------------------------------------

  @Test
  void checkClientAccessByNameParentAndAddressPrefix() throws IOException {
    var access = file("client_access", """
        client.example          REJECT
        192.0.2                 554 5.7.1 Your network is not welcome
        198.51.100.7            OK
        """);
    var checks = checks("mta.smtpd_client_restrictions = [ check_client_access, \"texthash:" + access + "\" ]");
    assertEquals("554 5.7.1 <mail.client.example[192.0.2.10]>: Client host rejected: Access denied",
        rcpt(checks, "a@remote.example", "<b@example.net>"));
    var byPrefix = Policy.client("192.0.2.99", "other.example");
    assertEquals("554 5.7.1 <other.example[192.0.2.99]>: Client host rejected: Your network is not welcome",
        rcpt(checks, byPrefix, "h", "a@remote.example", "<b@example.net>"));
    // OK in the client stage does not skip the relay check.
    assertEquals("554 5.7.1 <b@elsewhere.example>: Relay access denied", rcpt(checks, NAMELESS, "h", "a@remote.example", "<b@elsewhere.example>"));
  }

  @Test
  void cidrClientTable() throws IOException {
    var cidr = file("clients.cidr", "192.0.2.0/28 DEFER Slow down\n");
    var checks = checks("mta.smtpd_client_restrictions = \"check_client_access cidr:" + cidr + "\"");
    assertEquals("450 4.7.1 <mail.client.example[192.0.2.10]>: Client host rejected: Slow down",
        rcpt(checks, "a@remote.example", "<b@example.net>"));
  }

  @Test
  void checkHeloAccess() throws IOException {
    var access = file("helo_access", "localhost REJECT You are not me\n.example.net REJECT\n");
    var checks = checks("mta.smtpd_helo_restrictions = [ \"check_helo_access texthash:" + access + "\" ]");
    assertEquals("554 5.7.1 <localhost>: Helo command rejected: You are not me", rcpt(checks, STRANGER, "localhost", "a@b.example", "<c@example.net>"));
    assertEquals("ok", rcpt(checks, STRANGER, "friend.example", "a@b.example", "<c@example.net>"));
  }

  @Test
  void checkSenderAccessWithKeyOrderAndNullSender() throws IOException {
    var access = file("sender_access", """
        spammer@                REJECT
        bad.example             550 5.7.0 We know you
        <>                      REJECT No bounces here
        boss+vip@good.example   OK
        """);
    var checks = checks("mta.smtpd_sender_restrictions = [ \"check_sender_access texthash:" + access + "\" ]");
    assertEquals("554 5.7.1 <spammer@anywhere.example>: Sender address rejected: Access denied",
        rcpt(checks, "spammer@anywhere.example", "<c@example.net>"));
    assertEquals("550 5.7.0 <x@mail.bad.example>: Sender address rejected: We know you", rcpt(checks, "x@mail.bad.example", "<c@example.net>"));
    assertEquals("554 5.7.1 <>: Sender address rejected: No bounces here", rcpt(checks, "", "<c@example.net>"));
    assertEquals("ok", rcpt(checks, "boss+vip@good.example", "<c@example.net>"));
  }

  @Test
  void accessResults() throws IOException {
    var access = file("recipient_access", """
        ok@example.net          OK
        dunno@example.net       DUNNO
        defer@example.net       DEFER Come back later
        coded@example.net       450 4.2.0 Mailbox busy
        numeric@example.net     20240101
        held@example.net        HOLD quarantine
        dropped@example.net     DISCARD silently
        listed@example.net      reject_unauth_destination, permit
        classy@example.net      strict
        moved@example.net       REJECT 5.1.6 Not here
        """);
    var checks = checks("""
        mta.smtpd_restriction_classes { strict = [ reject ] }
        mta.smtpd_recipient_restrictions = [ "check_recipient_access texthash:%s" ]
        """.formatted(access));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<ok@example.net>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<dunno@example.net>"));
    assertEquals("450 4.7.1 <defer@example.net>: Recipient address rejected: Come back later", rcpt(checks, "a@remote.example", "<defer@example.net>"));
    assertEquals("450 4.2.0 <coded@example.net>: Recipient address rejected: Mailbox busy", rcpt(checks, "a@remote.example", "<coded@example.net>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<numeric@example.net>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<listed@example.net>"));
    assertEquals("554 5.7.1 <classy@example.net>: Recipient address rejected: Access denied", rcpt(checks, "a@remote.example", "<classy@example.net>"));
    assertEquals("554 5.1.6 <moved@example.net>: Recipient address rejected: Not here", rcpt(checks, "a@remote.example", "<moved@example.net>"));

    var held = checks.rcpt(Policy.rcptState(STRANGER, "h", MailAddress.parse("a@remote.example"), Policy.rcpt("<held@example.net>")));
    assertNull(held.reply());
    assertTrue(held.hold());
    assertTrue(logLines().contains("NOQUEUE: hold: RCPT from mail.client.example[192.0.2.10]: <held@example.net>: "
        + "Recipient address quarantine; from=<a@remote.example> to=<held@example.net> proto=ESMTP helo=<h>"), logLines().toString());
    var dropped = checks.rcpt(Policy.rcptState(STRANGER, "h", MailAddress.parse("a@remote.example"), Policy.rcpt("<dropped@example.net>")));
    assertNull(dropped.reply());
    assertTrue(dropped.discard());
  }

  @Test
  void okForARoutedRecipientDoesNotRelay() throws IOException {
    var access = file("routed_access", "relay.example OK\n");
    var checks = checks("mta.smtpd_relay_restrictions = [ \"check_recipient_access texthash:" + access + "\", reject_unauth_destination ]");
    assertEquals("ok", rcpt(checks, "a@remote.example", "<user@relay.example>"));
    assertEquals("554 5.7.1 <user%other.example@relay.example>: Relay access denied",
        rcpt(checks, "a@remote.example", "<user%other.example@relay.example>"));
  }

  @Test
  void bareTableTakesTheStagesAccessCheck() {
    var checks = checks("mta.smtpd_sender_restrictions = [ \"inline:{ bad.example=REJECT }\" ]");
    assertEquals("554 5.7.1 <x@bad.example>: Sender address rejected: Access denied", rcpt(checks, "x@bad.example", "<c@example.net>"));
  }

  @Test
  void tablesInAccessResultsAreAServerError() {
    var checks = checks("mta.smtpd_recipient_restrictions = [ \"check_recipient_access inline:{ { a@example.net = check_sender_access hash:/x } }\" ]");
    assertEquals("451 4.3.5 Server configuration error", rcpt(checks, "s@remote.example", "<a@example.net>"));
  }

  @Test
  void restrictionClassLoopsAreBounded() {
    var checks = checks("""
        mta.smtpd_restriction_classes { ping = [ pong ], pong = [ ping ] }
        mta.smtpd_recipient_restrictions = [ ping ]
        """);
    assertEquals("451 4.3.5 Server configuration error", rcpt(checks, "s@remote.example", "<a@example.net>"));
  }

  @Test
  void accessTableLookupFailureIsTemporary() throws IOException {
    int closed;
    try (var s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    var cf = file("down.cf", "jdbc_url = jdbc:postgresql://127.0.0.1:" + closed + "/test\ntimeout = 1\nquery = SELECT 'OK' WHERE '%s' <> ''\n");
    var checks = checks("mta.smtpd_recipient_restrictions = [ \"check_recipient_access sql:" + cf + "\" ]");
    assertEquals("451 4.3.5 <a@example.net>: Recipient address rejected: Server configuration error",
        rcpt(checks, "s@remote.example", "<a@example.net>"));
    var routing = checks("mta.transport_maps = [ \"sql:" + cf + "\" ]");
    assertEquals("451 4.3.0 <a@elsewhere.example>: Temporary lookup failure", rcpt(routing, "s@remote.example", "<a@elsewhere.example>"));
  }

  // --- generic and syntax restrictions ------------------------------------------------------

  @Test
  void permitRejectDefer() {
    assertEquals("554 5.7.1 <mail.client.example[192.0.2.10]>: Client host rejected: Access denied",
        rcpt(checks("mta.smtpd_client_restrictions = [ reject ]"), "a@remote.example", "<b@example.net>"));
    assertEquals("450 4.3.2 <a@remote.example>: Sender address rejected: Try again later",
        rcpt(checks("mta.smtpd_sender_restrictions = [ defer ]"), "a@remote.example", "<b@example.net>"));
    assertEquals("ok", rcpt(checks("mta.smtpd_recipient_restrictions = [ permit, reject ]"), "a@remote.example", "<b@example.net>"));
  }

  @Test
  void permitSaslAuthenticatedNeedsALogin() {
    var checks = checks("mta.smtpd_relay_restrictions = [ permit_sasl_authenticated, reject_unauth_destination ]");
    assertEquals("554 5.7.1 <b@elsewhere.example>: Relay access denied", rcpt(checks, "a@remote.example", "<b@elsewhere.example>"));
    var loggedIn = new SmtpdState("RCPT", STRANGER, "h", "ESMTP", MailAddress.parse("a@remote.example"),
        MailAddress.parse("b@elsewhere.example"), 0, new SmtpdState.SaslLogin("PLAIN", "alice"), null, false, 0, "1", false, null);
    assertNull(checks.rcpt(loggedIn).reply());
  }

  @Test
  void heloSyntax() {
    var checks = checks("mta.smtpd_helo_restrictions = [ reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname ]");
    assertEquals("501 5.5.2 <bad_name!>: Helo command rejected: Invalid name", rcpt(checks, STRANGER, "bad_name!", "a@b.example", "<c@example.net>"));
    assertEquals("504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
        rcpt(checks, STRANGER, "localhost", "a@b.example", "<c@example.net>"));
    assertEquals("501 5.5.2 <[300.1.1.1]>: Helo command rejected: Invalid ip address",
        rcpt(checks, STRANGER, "[300.1.1.1]", "a@b.example", "<c@example.net>"));
    assertEquals("ok", rcpt(checks, STRANGER, "[192.0.2.10]", "a@b.example", "<c@example.net>"));
    assertEquals("ok", rcpt(checks, STRANGER, "mail.client.example.", "a@b.example", "<c@example.net>"));
  }

  @Test
  void nonFqdnAddresses() {
    var checks = checks("mta.smtpd_recipient_restrictions = [ reject_non_fqdn_sender, reject_non_fqdn_recipient ]");
    assertEquals("504 5.5.2 <joe@localhost>: Sender address rejected: need fully-qualified address",
        rcpt(checks, "joe@localhost", "<c@example.net>"));
    assertEquals("504 5.5.2 <c@intranet>: Recipient address rejected: need fully-qualified address",
        rcpt(checks("mta.mynetworks = [ \"192.0.2.0/24\" ]\nmta.smtpd_recipient_restrictions = [ reject_non_fqdn_recipient ]"),
            "joe@remote.example", "<c@intranet>"));
    assertEquals("ok", rcpt(checks, "", "<c@example.net>"));
  }

  @Test
  void unknownClientHostname() {
    var checks = checks("mta.smtpd_client_restrictions = [ reject_unknown_client_hostname ]");
    assertEquals("450 4.7.25 Client host rejected: cannot find your hostname, [198.51.100.7]",
        rcpt(checks, NAMELESS, "h", "a@b.example", "<c@example.net>"));
    assertEquals("ok", rcpt(checks, "a@b.example", "<c@example.net>"));
  }

  @Test
  void unauthPipelining() {
    var checks = checks("mta.smtpd_data_restrictions = [ reject_unauth_pipelining ]");
    var state = new SmtpdState("DATA", STRANGER, "h", "SMTP", MailAddress.parse("a@b.example"), null, 2, null, null, true, 0, "1", false, null);
    assertEquals("503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining", checks.data(state).reply().oneLine());
  }

  @Test
  void deferIfPermitAndDeferIfReject() {
    var ifPermit = checks("mta.smtpd_recipient_restrictions = [ defer_if_permit, permit ]");
    assertEquals("450 4.7.0 <b@example.net>: Recipient address rejected: defer_if_permit requested",
        rcpt(ifPermit, "a@remote.example", "<b@example.net>"));
    var ifReject = checks("mta.smtpd_recipient_restrictions = [ defer_if_reject, reject ]");
    assertEquals("450 4.7.0 <b@example.net>: Recipient address rejected: defer_if_reject requested",
        rcpt(ifReject, "a@remote.example", "<b@example.net>"));
  }

  @Test
  void multiRecipientBounce() {
    var checks = checks("mta.smtpd_data_restrictions = [ reject_multi_recipient_bounce ]");
    var state = new SmtpdState("DATA", STRANGER, "h", "ESMTP", MailAddress.NULL_SENDER, null, 2, null, null, false, 0, "1", false, null);
    assertEquals("550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce", checks.data(state).reply().oneLine());
  }

  @Test
  void endOfDataRestrictions() {
    var checks = checks("mta.smtpd_end_of_data_restrictions = [ \"check_sender_access inline:{ { big@remote.example=REJECT too much } }\" ]");
    var state = new SmtpdState("END-OF-MESSAGE", STRANGER, "h", "ESMTP", MailAddress.parse("big@remote.example"),
        MailAddress.parse("b@example.net"), 1, null, null, false, 0, "1", false, null);
    assertEquals("554 5.7.1 <big@remote.example>: Sender address rejected: too much", checks.endOfData(state).reply().oneLine());
  }

  // --- recipient tables ---------------------------------------------------------------------

  @Test
  void unknownLocalRecipients() throws IOException {
    var users = file("local_users", "alice x\nbob@example.net x\n");
    var checks = checks("mta.local_recipient_maps = [ \"texthash:" + users + "\" ]");
    assertEquals("ok", rcpt(checks, "a@remote.example", "<alice@example.net>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<bob+box@example.net>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<Postmaster@example.net>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<postmaster>"));
    assertEquals("550 5.1.1 <carol@example.net>: Recipient address rejected: User unknown in local recipient table",
        rcpt(checks, "a@remote.example", "<carol@example.net>"));
    assertTrue(logLines().isEmpty(), "the protocol logs rejects, not the engine");
  }

  @Test
  void noLocalRecipientMapsAcceptsEveryone() {
    assertEquals("ok", rcpt(checks(""), "a@remote.example", "<anyone@example.net>"));
  }

  @Test
  void virtualMailboxAndRelayRecipientTables() throws IOException {
    var checks = checks("""
        mta.virtual_mailbox_domains = [ mailbox.example ]
        mta.virtual_mailbox_maps = [ "inline:{ box@mailbox.example=box/ }" ]
        mta.relay_recipient_maps = [ "inline:{ known@relay.example=x, @open.relay.example=x }" ]
        mta.relay_domains = [ relay.example ]
        """);
    assertEquals("ok", rcpt(checks, "a@remote.example", "<box@mailbox.example>"));
    assertEquals("550 5.1.1 <nobox@mailbox.example>: Recipient address rejected: User unknown in virtual mailbox table",
        rcpt(checks, "a@remote.example", "<nobox@mailbox.example>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<known@relay.example>"));
    assertEquals("550 5.1.1 <unknown@relay.example>: Recipient address rejected: User unknown in relay recipient table",
        rcpt(checks, "a@remote.example", "<unknown@relay.example>"));
    assertEquals("ok", rcpt(checks, "a@remote.example", "<postmaster@relay.example>"));
  }

  @Test
  void virtualAliasDomainsAcceptOnlyAliases() {
    var checks = checks("""
        mta.virtual_alias_domains = [ alias.example ]
        mta.virtual_alias_maps = [ "inline:{ sales@alias.example=alice@example.net }" ]
        """);
    assertEquals("ok", rcpt(checks, "a@remote.example", "<sales@alias.example>"));
    assertEquals("550 5.1.1 <nobody@alias.example>: Recipient address rejected: User unknown in virtual alias table",
        rcpt(checks, "a@remote.example", "<nobody@alias.example>"));
  }

  @Test
  void relocatedUsersAreToldTheNewAddress() {
    var checks = checks("mta.relocated_maps = [ \"inline:{ old@example.net=new@other.example }\" ]");
    assertEquals("551 5.1.6 <old@example.net>: Recipient address rejected: User has moved to new@other.example",
        rcpt(checks, "a@remote.example", "<old@example.net>"));
  }

  @Test
  void errorTransportRefusesAtRcpt() {
    var checks = checks("mta.transport_maps = [ \"inline:{ { closed.example = error:5.7.1 This domain is closed } }\" ]\n"
        + "mta.relay_domains = [ closed.example ]");
    assertEquals("550 5.7.1 <a@closed.example>: Recipient address rejected: This domain is closed",
        rcpt(checks, "a@remote.example", "<a@closed.example>"));
  }

  @Test
  void unlistedRecipientsCanBeAccepted() throws IOException {
    var users = file("few_users", "alice x\n");
    var checks = checks("mta.local_recipient_maps = [ \"texthash:" + users + "\" ]\nmta.smtpd_reject_unlisted_recipient = no");
    assertEquals("ok", rcpt(checks, "a@remote.example", "<carol@example.net>"));
  }

  // --- delayed and early evaluation ---------------------------------------------------------

  @Test
  void withDelayRejectEarlierStagesWaitForRcpt() {
    var checks = checks("mta.smtpd_client_restrictions = [ reject ]");
    var connect = new SmtpdState("CONNECT", STRANGER, null, "SMTP", null, null, 0, null, null, false, 0, null, false, null);
    assertNull(checks.connect(connect).reply());
    assertFalse(rcpt(checks, "a@remote.example", "<b@example.net>").equals("ok"));
  }

  @Test
  void withoutDelayRejectTheClientIsRefusedAtConnect() {
    var checks = checks("mta.smtpd_delay_reject = no\nmta.smtpd_client_restrictions = [ reject ]");
    var connect = new SmtpdState("CONNECT", STRANGER, null, "SMTP", null, null, 0, null, null, false, 0, null, false, null);
    assertEquals("554 5.7.1 <mail.client.example[192.0.2.10]>: Client host rejected: Access denied",
        checks.connect(connect).reply().oneLine());
  }

  // --- configuration ------------------------------------------------------------------------

  @Test
  void unknownRestrictionsStopTheStartNamingKeyAndFile() {
    var e = assertThrows(ConfigError.class, () -> Policy.services("mta.smtpd_recipient_restrictions = [ permit_everyone ]"));
    assertTrue(e.getMessage().matches(".*policy.*\\.conf: \\d+: mta\\.smtpd_recipient_restrictions: unknown smtpd restriction: \"permit_everyone\""),
        e.getMessage());
    var missing = assertThrows(ConfigError.class, () -> Policy.services("mta.smtpd_client_restrictions = [ check_client_access ]"));
    assertTrue(missing.getMessage().contains("check_client_access requires an argument"), missing.getMessage());
  }

  @Test
  void brokenTablesStopTheStartNamingKeyAndFile() throws IOException {
    var broken = file("broken_access", "lonely\n");
    var e = assertThrows(ConfigError.class, () -> Policy.services("mta.smtpd_recipient_restrictions = [ \"check_recipient_access texthash:" + broken + "\" ]"));
    assertTrue(e.getMessage().contains("mta.smtpd_recipient_restrictions") && e.getMessage().contains(broken + ", line 1"), e.getMessage());
    var table = assertThrows(ConfigError.class, () -> Policy.services("mta.virtual_alias_maps = [ \"texthash:" + dir.resolve("absent") + "\" ]"));
    assertTrue(table.getMessage().contains("mta.virtual_alias_maps"), table.getMessage());
  }

  @Test
  void listsMayBePostfixStyleStrings() {
    var checks = checks("mta.smtpd_recipient_restrictions = \"reject_non_fqdn_recipient, permit\"");
    assertEquals("ok", rcpt(checks, "a@remote.example", "<b@example.net>"));
  }

  private List<String> logLines() {
    return logged.lines();
  }
}

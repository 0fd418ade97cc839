package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import mta.mail.Dsn;
import mta.mail.Envelope;
import mta.mail.MailAddress;
import mta.mail.Reply;
import mta.smtp.SmtpChecks.Verdict;
import mta.smtp.SmtpServerProtocol.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import mta.LogCapture;

class SmtpServerProtocolTest {

  private static final String HOST = "mx.example.net";
  private static final ClientInfo CLIENT = client("192.0.2.10");
  /** Postfix's default policy for a client outside mynetworks: only example.net is ours. */
  private static final SmtpChecks RELAY = Policy.checks("mta.mynetworks = [ \"127.0.0.0/8\" ]\nmta.mydestination = [ example.net ]");

  @RegisterExtension
  final LogCapture logged = new LogCapture("smtpd");
  private SmtpServerProtocol smtpd = protocol(SmtpdSettings.defaults(HOST), RELAY);

  private static ClientInfo client(String address) {
    try {
      return new ClientInfo(InetAddress.getByName(address), 54321, "client.example");
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static SmtpServerProtocol protocol(SmtpdSettings settings, SmtpChecks checks) {
    return new SmtpServerProtocol(settings, CLIENT, checks);
  }

  private static SmtpdSettings settings(int recipientLimit, int overshootLimit, int hardErrorLimit, boolean tls) {
    return new SmtpdSettings(HOST, 1000, recipientLimit, overshootLimit, hardErrorLimit, "mta", tls, false, false);
  }

  /** smtpd_helo_required = yes. */
  private static SmtpdSettings heloRequired(int hardErrorLimit) {
    return new SmtpdSettings(HOST, 1000, 10, 10, hardErrorLimit, "mta", false, true, false);
  }

  private List<String> logLines() {
    return logged.lines();
  }

  /** The reply of a command that leaves the connection open. */
  private String say(String line) {
    return assertInstanceOf(Step.Respond.class, smtpd.onCommand(line), line).reply().oneLine();
  }

  private String sayAndClose(String line) {
    return assertInstanceOf(Step.RespondAndClose.class, smtpd.onCommand(line), line).reply().oneLine();
  }

  private void startData() {
    var step = assertInstanceOf(Step.StartData.class, smtpd.onCommand("DATA"));
    assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", step.reply().wire());
  }

  private Step.Enqueue deliver(String body) {
    startData();
    return assertInstanceOf(Step.Enqueue.class, smtpd.onData(new DataResult.Complete(body.getBytes(StandardCharsets.US_ASCII))));
  }

  // --- greeting and EHLO ---------------------------------------------------------------------

  @Test
  void greeting() {
    assertEquals("220 mx.example.net ESMTP mta\r\n", smtpd.greeting().wire());
  }

  @Test
  void ehloListsPostfixsExtensions() {
    var reply = assertInstanceOf(Step.Respond.class, smtpd.onCommand("EHLO client.example")).reply();
    assertEquals("250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
        + "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n", reply.wire());
  }

  @Test
  void ehloOffersStarttlsWhenTlsIsAvailable() {
    smtpd = protocol(settings(10, 10, 20, true), RELAY);
    var reply = assertInstanceOf(Step.Respond.class, smtpd.onCommand("EHLO client.example")).reply();
    assertEquals(List.of(HOST, "PIPELINING", "SIZE 1000", "VRFY", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN"), reply.lines());
  }

  @Test
  void heloAnswersWithTheHostname() {
    assertEquals("250 mx.example.net\r\n", assertInstanceOf(Step.Respond.class, smtpd.onCommand("HELO client.example")).reply().wire());
  }

  @Test
  void heloWithoutArgument() {
    assertEquals("501 Syntax: HELO hostname", say("HELO"));
    assertEquals("501 Syntax: EHLO hostname", say("EHLO"));
  }

  // --- a whole transaction -------------------------------------------------------------------

  @Test
  void esmtpTransaction() {
    say("EHLO client.example");
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<alice@remote.example> SIZE=500 BODY=8BITMIME"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<bob@example.net>"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<carol@EXAMPLE.NET>"));
    var enqueue = deliver("Subject: hi\r\n\r\nhello\r\n");
    assertEquals(new Envelope(new MailAddress("alice", "remote.example"),
        List.of(new MailAddress("bob", "example.net"), new MailAddress("carol", "example.net"))), enqueue.envelope());
    assertArrayEquals("Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII), enqueue.content());
    assertEquals("client.example", enqueue.heloName());
    assertEquals("ESMTP", enqueue.protocol());
    assertEquals("250 2.0.0 Ok: queued as 4XyZ12", smtpd.onQueued("4XyZ12").oneLine());
    // The session goes on: a second message on the same connection.
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<>"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<bob@example.net>"));
    assertEquals(MailAddress.NULL_SENDER, deliver("x\r\n").envelope().sender());
  }

  @Test
  void heloMeansPlainSmtp() {
    say("HELO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    assertEquals("SMTP", deliver("x\r\n").protocol());
  }

  @Test
  void controlCharactersFromTheClientAreNeutered() {
    say("HELO bad\u0001name");
    assertEquals("252 2.0.0 a?b", say("VRFY a\rb"));
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    assertEquals("bad?name", deliver("x\r\n").heloName());
  }

  @Test
  void pipelinedTransactionWithOneRefusedRecipient() {
    say("EHLO client.example");
    // The client sends these four lines in one packet; the session feeds them one by one.
    var replies = List.of("MAIL FROM:<a@remote.example>", "RCPT TO:<x@example.net>", "RCPT TO:<y@elsewhere.example>", "DATA")
        .stream().map(smtpd::onCommand).toList();
    assertEquals("250 2.1.0 Ok", ((Step.Respond) replies.get(0)).reply().oneLine());
    assertEquals("250 2.1.5 Ok", ((Step.Respond) replies.get(1)).reply().oneLine());
    assertEquals("554 5.7.1 <y@elsewhere.example>: Relay access denied", ((Step.Respond) replies.get(2)).reply().oneLine());
    assertInstanceOf(Step.StartData.class, replies.get(3));
    var enqueue = assertInstanceOf(Step.Enqueue.class, smtpd.onData(new DataResult.Complete(new byte[0])));
    assertEquals(List.of(new MailAddress("x", "example.net")), enqueue.envelope().recipients());
  }

  @Test
  void pipelinedTransactionWithEveryRecipientRefused() {
    say("EHLO client.example");
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@remote.example>"));
    assertEquals("554 5.7.1 <y@elsewhere.example>: Relay access denied", say("RCPT TO:<y@elsewhere.example>"));
    assertEquals("554 5.5.1 Error: no valid recipients", say("DATA"));
    // The client pipelined its message after DATA; its first header line ends the session.
    assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.", sayAndClose("Subject: buy now"));
  }

  @Test
  void pipelinedSessionAfterQueueing() {
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    deliver("x\r\n");
    smtpd.onQueued("Q1");
    assertEquals("250 2.0.0 Ok", say("RSET"));
    assertEquals("221 2.0.0 Bye", sayAndClose("QUIT"));
  }

  @Test
  void queueFailureResetsTheTransactionButKeepsTheSession() {
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    deliver("x\r\n");
    assertEquals("451 4.3.0 Error: queue file write error", smtpd.onQueueFailed("journal unavailable").oneLine());
    assertEquals("503 5.5.1 Error: need MAIL command", say("RCPT TO:<b@example.net>"));
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@remote.example>"));
  }

  // --- sequence errors -----------------------------------------------------------------------

  @Test
  void mailBeforeHeloWhenHeloIsRequired() {
    smtpd = protocol(heloRequired(20), RELAY);
    assertEquals("503 5.5.1 Error: send HELO/EHLO first", say("MAIL FROM:<a@b>"));
    // Out of sequence is reported before bad syntax, as Postfix does.
    assertEquals("503 5.5.1 Error: send HELO/EHLO first", say("MAIL FROM:<a b>"));
  }

  @Test
  void mailWithoutHeloByDefault() {
    // Postfix's smtpd_helo_required = no.
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@remote.example>"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<b@example.net>"));
    var enqueue = deliver("x\r\n");
    assertEquals(null, enqueue.heloName());
    assertEquals("SMTP", enqueue.protocol());
  }

  @Test
  void nestedMail() {
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    assertEquals("503 5.5.1 Error: nested MAIL command", say("MAIL FROM:<c@d>"));
    assertEquals("503 5.5.1 Error: nested MAIL command", say("MAIL FROM:garbage<"));
  }

  @Test
  void rcptBeforeMail() {
    say("EHLO client.example");
    assertEquals("503 5.5.1 Error: need MAIL command", say("RCPT TO:<b@example.net>"));
    assertEquals("503 5.5.1 Error: need MAIL command", say("RCPT TO:<>"));
  }

  @Test
  void dataWithoutMail() {
    say("EHLO client.example");
    assertEquals("503 5.5.1 Error: need RCPT command", say("DATA"));
  }

  @Test
  void dataWithArgument() {
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    say("RCPT TO:<c@example.net>");
    assertEquals("501 5.5.4 Syntax: DATA", say("DATA please"));
  }

  @Test
  void ehloResetsTheTransaction() {
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    say("RCPT TO:<c@example.net>");
    assertEquals(HOST, assertInstanceOf(Step.Respond.class, smtpd.onCommand("EHLO again.example")).reply().lines().get(0));
    assertEquals("503 5.5.1 Error: need MAIL command", say("RCPT TO:<c@example.net>"));
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@b>"));
  }

  @Test
  void rsetResetsTheTransaction() {
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    assertEquals("250 2.0.0 Ok", say("RSET"));
    assertEquals("503 5.5.1 Error: need MAIL command", say("RCPT TO:<c@example.net>"));
    assertEquals("501 5.5.4 Syntax: RSET", say("RSET all"));
  }

  // --- syntax and parameters -----------------------------------------------------------------

  @Test
  void badAddresses() {
    say("EHLO client.example");
    assertEquals("501 5.1.7 Bad sender address syntax", say("MAIL FROM:<a b@c>"));
    assertEquals("501 5.5.4 Syntax: MAIL FROM:<address>", say("MAIL FROM"));
    say("MAIL FROM:<a@b>");
    assertEquals("501 5.1.3 Bad recipient address syntax", say("RCPT TO:<c@d"));
    assertEquals("501 5.1.3 Bad recipient address syntax", say("RCPT TO:<>"));
    assertEquals("501 5.5.4 Syntax: RCPT TO:<address>", say("RCPT <c@example.net>"));
  }

  @Test
  void sizeParameter() {
    say("EHLO client.example");
    assertEquals("552 5.3.4 Message size exceeds fixed limit", say("MAIL FROM:<a@b> SIZE=10240001"));
    assertEquals("552 5.3.4 Message size exceeds fixed limit", say("MAIL FROM:<a@b> SIZE=99999999999999999999999"));
    assertEquals("501 5.5.4 Bad message size syntax", say("MAIL FROM:<a@b> SIZE=12k"));
    assertEquals("501 5.5.4 Bad message size syntax", say("MAIL FROM:<a@b> SIZE="));
    assertEquals("501 5.5.4 Bad message size syntax", say("MAIL FROM:<a@b> SIZE=-1"));
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@b> SIZE=10240000"));
  }

  @Test
  void bodyParameter() {
    say("EHLO client.example");
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@b> BODY=7BIT"));
    say("RSET");
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@b> body=8bitmime"));
    say("RSET");
    assertEquals("555 5.5.4 Unsupported option: BODY=BINARYMIME", say("MAIL FROM:<a@b> BODY=BINARYMIME"));
  }

  @Test
  void unsupportedParameters() {
    say("EHLO client.example");
    assertEquals("555 5.5.4 Unsupported option: FOO=bar", say("MAIL FROM:<a@b> foo=bar"));
    assertEquals("555 5.5.4 Unsupported option: SMTPUTF8", say("MAIL FROM:<a@b> SIZE=1 SMTPUTF8"));
    say("MAIL FROM:<a@b>");
    assertEquals("555 5.5.4 Unsupported option: XFORWARD=1", say("RCPT TO:<c@example.net> XFORWARD=1"));
  }

  // --- other commands ------------------------------------------------------------------------

  @Test
  void noopVrfyHelpQuit() {
    assertEquals("250 2.0.0 Ok", say("NOOP"));
    assertEquals("250 2.0.0 Ok", say("NOOP ignored"));
    assertEquals("252 2.0.0 postmaster", say("VRFY postmaster"));
    assertEquals("252 2.0.0 <nobody@example.net>", say("VRFY <nobody@example.net>"));
    assertEquals("501 5.5.4 Syntax: VRFY address", say("VRFY"));
    assertEquals("214 2.0.0 Commands: DATA EHLO HELO HELP MAIL NOOP QUIT RCPT RSET VRFY", say("HELP"));
    assertEquals("221 2.0.0 Bye", sayAndClose("QUIT"));
  }

  @Test
  void helpListsStarttlsWhenAvailable() {
    smtpd = protocol(settings(10, 10, 20, true), RELAY);
    assertEquals("214 2.0.0 Commands: DATA EHLO HELO HELP MAIL NOOP QUIT RCPT RSET STARTTLS VRFY", say("HELP"));
  }

  @Test
  void unknownAndUnimplementedCommands() {
    assertEquals("500 5.5.2 Error: command not recognized", say("ETRN example.net"));
    assertEquals("500 5.5.2 Error: command not recognized", say("XYZZY"));
    assertEquals("502 5.5.1 Error: command not implemented", say("AUTH PLAIN AGEAYg=="));
    assertEquals("502 5.5.1 Error: command not implemented", say("STARTTLS"));
    assertEquals("500 5.5.2 Error: bad syntax", say(""));
  }

  @Test
  void foreignProtocolsAreHungUpOn() {
    assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.", sayAndClose("GET / HTTP/1.1"));
    smtpd = protocol(SmtpdSettings.defaults(HOST), RELAY);
    assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.", sayAndClose("post /form HTTP/1.0"));
    smtpd = protocol(SmtpdSettings.defaults(HOST), RELAY);
    assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.", sayAndClose("CONNECT relay.example:25 HTTP/1.1"));
    smtpd = protocol(SmtpdSettings.defaults(HOST), RELAY);
    assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.", sayAndClose("\u0016\u0003\u0001"));
    smtpd = protocol(SmtpdSettings.defaults(HOST), RELAY);
    assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.", sayAndClose("From: someone@example"));
    assertEquals(List.of("non-SMTP command from client.example[192.0.2.10]: From: someone@example"),
        logLines().subList(logLines().size() - 1, logLines().size()));
  }

  // --- STARTTLS ------------------------------------------------------------------------------

  @Test
  void starttlsStartsOver() {
    smtpd = protocol(new SmtpdSettings(HOST, 1000, 10, 10, 20, "mta", true, true, false), RELAY);
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    var step = assertInstanceOf(Step.StartTls.class, smtpd.onCommand("STARTTLS"));
    assertEquals("220 2.0.0 Ready to start TLS", step.reply().oneLine());
    // RFC 3207: the client is a stranger again and must say EHLO (here smtpd_helo_required = yes).
    assertEquals("503 5.5.1 Error: send HELO/EHLO first", say("MAIL FROM:<a@b>"));
    var ehlo = assertInstanceOf(Step.Respond.class, smtpd.onCommand("EHLO client.example")).reply();
    assertEquals(List.of(HOST, "PIPELINING", "SIZE 1000", "VRFY", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN"), ehlo.lines());
    assertEquals("554 5.5.1 Error: TLS already active", say("STARTTLS"));
    assertEquals("501 5.5.4 Syntax: STARTTLS", say("STARTTLS now"));
  }

  // --- the DATA outcome ----------------------------------------------------------------------

  private void readyForData() {
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    startData();
  }

  @Test
  void messageTooBig() {
    readyForData();
    assertEquals("552 5.3.4 Error: message file too big",
        assertInstanceOf(Step.Respond.class, smtpd.onData(new DataResult.TooBig())).reply().oneLine());
    assertEquals("503 5.5.1 Error: need RCPT command", say("DATA"));
  }

  @Test
  void contentLineTooLong() {
    readyForData();
    assertEquals("554 5.6.0 Error: message content line longer than 998 octets",
        assertInstanceOf(Step.Respond.class, smtpd.onData(new DataResult.LineTooLong())).reply().oneLine());
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@remote.example>"));
  }

  @Test
  void bareLineEndingInTheBodyEndsTheSession() {
    readyForData();
    var step = assertInstanceOf(Step.RespondAndClose.class, smtpd.onData(new DataResult.BareLineEnding()));
    assertEquals("550 5.5.2 mx.example.net Error: bare <LF> received", step.reply().oneLine());
    assertEquals(List.of("NOQUEUE: reject: END-OF-MESSAGE from client.example[192.0.2.10]: "
        + "550 5.5.2 mx.example.net Error: bare <LF> received; from=<a@remote.example> proto=ESMTP helo=<client.example>"),
        logLines());
  }

  @Test
  void bareLineEndingInACommand() {
    assertEquals("550 5.5.2 mx.example.net Error: bare <LF> received", smtpd.bareLineEnding().oneLine());
  }

  @Test
  void commandTooLong() {
    assertEquals("500 5.5.2 mx.example.net Error: command too long", smtpd.lineTooLong().oneLine());
  }

  @Test
  void timeout() {
    say("EHLO client.example");
    assertEquals("421 4.4.2 mx.example.net Error: timeout exceeded", smtpd.timeout().oneLine());
    assertEquals(List.of("timeout after EHLO from client.example[192.0.2.10]"), logLines());
  }

  @Test
  void callsOutOfTurnAreBugs() {
    assertThrows(IllegalStateException.class, () -> smtpd.onData(new DataResult.TooBig()));
    assertThrows(IllegalStateException.class, () -> smtpd.onQueued("Q"));
    assertThrows(IllegalStateException.class, () -> smtpd.onQueueFailed("x"));
    readyForData();
    assertThrows(IllegalStateException.class, () -> smtpd.onCommand("NOOP"));
    smtpd.onData(new DataResult.Complete(new byte[0]));
    assertThrows(IllegalStateException.class, () -> smtpd.onCommand("NOOP"));
    assertThrows(IllegalStateException.class, () -> smtpd.onData(new DataResult.TooBig()));
  }

  // --- recipient limit -----------------------------------------------------------------------

  @Test
  void tooManyRecipients() {
    smtpd = protocol(settings(2, 1000, 3, false), RELAY);
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<r1@example.net>"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<r2@example.net>"));
    // Within the overshoot limit these are not errors: three of them do not end the session.
    for (int i = 3; i <= 6; i++) {
      assertEquals("452 4.5.3 Error: too many recipients", say("RCPT TO:<r" + i + "@example.net>"));
    }
    assertEquals(2, deliver("x\r\n").envelope().recipients().size());
  }

  @Test
  void recipientsBeyondTheOvershootLimitAreErrors() {
    smtpd = protocol(settings(1, 1, 2, false), RELAY);
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    say("RCPT TO:<r1@example.net>");
    assertEquals("452 4.5.3 Error: too many recipients", say("RCPT TO:<r2@example.net>"));
    assertEquals("452 4.5.3 Error: too many recipients", say("RCPT TO:<r3@example.net>"));
    assertEquals("421 4.7.0 mx.example.net Error: too many errors", sayAndClose("RCPT TO:<r4@example.net>"));
  }

  // --- error limit ---------------------------------------------------------------------------

  @Test
  void twentiethErrorEndsTheSession() {
    for (int i = 1; i < 20; i++) {
      assertEquals("500 5.5.2 Error: command not recognized", say("BOGUS"), "error " + i);
    }
    assertEquals("421 4.7.0 mx.example.net Error: too many errors", sayAndClose("BOGUS"));
    assertEquals("too many errors after UNKNOWN from client.example[192.0.2.10]", logLines().get(logLines().size() - 1));
  }

  @Test
  void allKindsOfErrorsCount() {
    smtpd = protocol(heloRequired(4), RELAY);
    say("MAIL FROM:<a@b>"); // 503
    say("HELO"); // 501
    say("EHLO client.example");
    say("MAIL FROM:<a@b>");
    say("RCPT TO:<x@elsewhere.example>"); // 554
    assertEquals("421 4.7.0 mx.example.net Error: too many errors", sayAndClose("RCPT TO:<y@elsewhere.example>"));
  }

  @Test
  void overLongLinesAndQueueFailuresCountToo() {
    smtpd = protocol(settings(10, 10, 3, false), RELAY);
    smtpd.lineTooLong();
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    deliver("x\r\n");
    smtpd.onQueueFailed("disk full");
    smtpd.lineTooLong();
    assertEquals("421 4.7.0 mx.example.net Error: too many errors", sayAndClose("NOOP"));
  }

  @Test
  void queuedMailForgivesEarlierErrors() {
    smtpd = protocol(settings(10, 10, 3, false), RELAY);
    say("BOGUS");
    say("BOGUS");
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    deliver("x\r\n");
    smtpd.onQueued("Q1");
    assertEquals("500 5.5.2 Error: command not recognized", say("BOGUS"));
    assertEquals("500 5.5.2 Error: command not recognized", say("BOGUS"));
    assertEquals("421 4.7.0 mx.example.net Error: too many errors", sayAndClose("BOGUS"));
  }

  // --- policy --------------------------------------------------------------------------------

  @Test
  void relayDeniedIsLoggedLikePostfix() {
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    assertEquals("554 5.7.1 <x@elsewhere.example>: Relay access denied", say("RCPT TO:<x@elsewhere.example>"));
    assertEquals(List.of("NOQUEUE: reject: RCPT from client.example[192.0.2.10]: 554 5.7.1 <x@elsewhere.example>: "
        + "Relay access denied; from=<a@remote.example> to=<x@elsewhere.example> proto=ESMTP helo=<client.example>"), logLines());
  }

  @Test
  void sizeRejectIsLogged() {
    say("HELO client.example");
    say("MAIL FROM:<> SIZE=20000000");
    assertEquals(List.of("NOQUEUE: reject: MAIL from client.example[192.0.2.10]: 552 5.3.4 Message size exceeds fixed limit; "
        + "from=<> proto=SMTP helo=<client.example>"), logLines());
  }

  @Test
  void senderCheckCanRefuse() {
    var refusal = Reply.of(553, "5.7.1", "<spam@bad.example>: Sender address rejected: Access denied");
    smtpd = protocol(SmtpdSettings.defaults(HOST), new SmtpChecks() {
      @Override
      public Verdict mail(SmtpdState state) {
        return state.sender().domain().equals("bad.example") ? Verdict.refuse(refusal) : Verdict.DUNNO;
      }

      @Override
      public Verdict rcpt(SmtpdState state) {
        return Verdict.DUNNO;
      }
    });
    say("EHLO client.example");
    assertEquals(refusal.oneLine(), say("MAIL FROM:<spam@bad.example>"));
    assertEquals("503 5.5.1 Error: need MAIL command", say("RCPT TO:<b@example.net>"));
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<ham@good.example>"));
    assertEquals(1, logLines().size());
  }

  @Test
  void recipientCheckSeesClientAndSender() {
    smtpd = protocol(SmtpdSettings.defaults(HOST), state -> {
      assertEquals(CLIENT, state.client());
      assertEquals(new MailAddress("a", "remote.example"), state.sender());
      return state.recipient().localPart().equals("unknown")
          ? SmtpChecks.Verdict.refuse(Reply.of(550, "5.1.1", "<" + state.recipient() + ">: Recipient address rejected"))
          : SmtpChecks.Verdict.DUNNO;
    });
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    assertEquals("550 5.1.1 <unknown@example.net>: Recipient address rejected", say("RCPT TO:<unknown@example.net>"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<known@example.net>"));
  }

  @Test
  void postmasterWithoutDomainIsAccepted() {
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<postmaster>"));
  }

  // --- DSN (RFC 3461) ------------------------------------------------------------------------

  @Test
  void dsnParametersAreKeptInTheEnvelope() {
    say("EHLO client.example");
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@remote.example> RET=HDRS ENVID=QQ314159+2Bx"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bold@example.net"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<c@example.net> NOTIFY=NEVER"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<d@example.net>"));
    var envelope = deliver("x\r\n").envelope();
    assertEquals(new Dsn.Mail(Dsn.Ret.HDRS, "QQ314159+x"), envelope.dsn());
    assertEquals(List.of(
        new Dsn.Rcpt(EnumSet.of(Dsn.Notify.SUCCESS, Dsn.Notify.FAILURE), "rfc822;b+old@example.net"),
        new Dsn.Rcpt(EnumSet.noneOf(Dsn.Notify.class), null),
        Dsn.Rcpt.NONE), envelope.recipientDsn());
  }

  @Test
  void badDsnParameters() {
    say("EHLO client.example");
    assertEquals("555 5.5.4 Unsupported option: RET=BODY", say("MAIL FROM:<a@b> RET=BODY"));
    assertEquals("501 5.5.4 Bad ENVID parameter syntax", say("MAIL FROM:<a@b> ENVID=a+zz"));
    say("MAIL FROM:<a@b>");
    assertEquals("501 5.5.4 Error: Bad NOTIFY parameter syntax", say("RCPT TO:<c@example.net> NOTIFY=SOMETIMES"));
    assertEquals("501 5.5.4 Error: Bad NOTIFY parameter syntax", say("RCPT TO:<c@example.net> NOTIFY=NEVER,SUCCESS"));
    assertEquals("501 5.5.4 Error: Bad ORCPT parameter syntax", say("RCPT TO:<c@example.net> ORCPT=c@example.net"));
  }

  // --- strict_rfc821_envelopes ---------------------------------------------------------------

  @Test
  void strictEnvelopesNeedAngleBrackets() {
    smtpd = protocol(new SmtpdSettings(HOST, 1000, 10, 10, 20, "mta", false, false, true), RELAY);
    say("EHLO client.example");
    assertEquals("501 5.1.7 Bad sender address syntax", say("MAIL FROM:a@remote.example"));
    assertEquals("250 2.1.0 Ok", say("MAIL FROM: <a@remote.example>"));
    assertEquals("501 5.1.3 Bad recipient address syntax", say("RCPT TO:<@relay.example:b@example.net>"));
    assertEquals("250 2.1.5 Ok", say("RCPT TO:<b@example.net>"));
  }

  // --- restriction stages --------------------------------------------------------------------

  /** A test double that refuses one stage and records what the others were asked. */
  private static final class Recording implements SmtpChecks {
    final List<SmtpdState> asked = new ArrayList<>();
    final String refuseAt;
    final Verdict verdict;

    Recording(String refuseAt, Verdict verdict) {
      this.refuseAt = refuseAt;
      this.verdict = verdict;
    }

    private Verdict answer(SmtpdState state) {
      asked.add(state);
      return state.where().equals(refuseAt) ? verdict : Verdict.DUNNO;
    }

    @Override public Verdict connect(SmtpdState s) { return answer(s); }
    @Override public Verdict helo(SmtpdState s) { return answer(s); }
    @Override public Verdict mail(SmtpdState s) { return answer(s); }
    @Override public Verdict rcpt(SmtpdState s) { return answer(s); }
    @Override public Verdict data(SmtpdState s) { return answer(s); }
    @Override public Verdict endOfData(SmtpdState s) { return answer(s); }
  }

  @Test
  void refusedAtConnectTheClientGetsOnly503() {
    var refusal = Reply.of(554, "5.7.1", "<client.example[192.0.2.10]>: Client host rejected: Access denied");
    smtpd = protocol(SmtpdSettings.defaults(HOST), new Recording("CONNECT", Verdict.refuse(refusal)));
    assertEquals(refusal, smtpd.greeting());
    assertEquals("503 5.7.0 Error: access denied for client.example[192.0.2.10]", say("EHLO client.example"));
    assertEquals("503 5.7.0 Error: access denied for client.example[192.0.2.10]", say("MAIL FROM:<a@b>"));
    assertEquals("221 2.0.0 Bye", sayAndClose("QUIT"));
    assertEquals("NOQUEUE: reject: CONNECT from client.example[192.0.2.10]: " + refusal.oneLine() + "; proto=SMTP", logLines().getFirst());
  }

  @Test
  void everyStageIsAskedWithWhatItNeeds() {
    var checks = new Recording("none", Verdict.DUNNO);
    smtpd = protocol(SmtpdSettings.defaults(HOST), checks);
    smtpd.greeting();
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example> SIZE=300");
    say("RCPT TO:<b@example.net>");
    deliver("x\r\n");
    assertEquals(List.of("CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE"),
        checks.asked.stream().map(SmtpdState::where).toList());
    var rcpt = checks.asked.get(3);
    assertEquals("client.example", rcpt.heloName());
    assertEquals(new MailAddress("b", "example.net"), rcpt.recipient());
    assertEquals(300, rcpt.messageSize());
    assertEquals(checks.asked.get(2).instance(), rcpt.instance());
    assertEquals(1, checks.asked.get(4).recipientCount());
    assertEquals(null, smtpd.authenticatedUser());
  }

  @Test
  void heloRefusalKeepsTheOldName() {
    var refusal = Reply.of(504, "5.5.2", "<localhost>: Helo command rejected: need fully-qualified hostname");
    smtpd = protocol(SmtpdSettings.defaults(HOST), new Recording("HELO", Verdict.refuse(refusal)));
    assertEquals(refusal.oneLine(), say("HELO localhost"));
    assertEquals("NOQUEUE: reject: HELO from client.example[192.0.2.10]: " + refusal.oneLine() + "; proto=SMTP helo=<localhost>",
        logLines().getFirst());
  }

  @Test
  void dataAndEndOfDataRefusals() {
    var data = Reply.of(554, "5.7.1", "<DATA>: Data command rejected: Access denied");
    smtpd = protocol(SmtpdSettings.defaults(HOST), new Recording("DATA", Verdict.refuse(data)));
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    assertEquals(data.oneLine(), say("DATA"));
    assertEquals("250 2.0.0 Ok", say("RSET"));

    var eod = Reply.of(554, "5.7.1", "<END-OF-MESSAGE>: End-of-data rejected: Access denied");
    smtpd = protocol(SmtpdSettings.defaults(HOST), new Recording("END-OF-MESSAGE", Verdict.refuse(eod)));
    readyForData();
    assertEquals(eod.oneLine(), assertInstanceOf(Step.Respond.class, smtpd.onData(new DataResult.Complete(new byte[0]))).reply().oneLine());
    assertEquals("250 2.1.0 Ok", say("MAIL FROM:<a@remote.example>"));
  }

  @Test
  void holdAndDiscardReachTheQueueStep() {
    smtpd = protocol(SmtpdSettings.defaults(HOST), new Recording("RCPT", new Verdict(null, null, true, false)));
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    var held = deliver("x\r\n");
    assertTrue(held.hold());
    assertFalse(held.discard());

    smtpd = protocol(SmtpdSettings.defaults(HOST), new Recording("MAIL", new Verdict(null, null, false, true)));
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    assertTrue(deliver("x\r\n").discard());
  }

  @Test
  void cleanupRefusalEndsTheTransaction() {
    say("EHLO client.example");
    say("MAIL FROM:<a@remote.example>");
    say("RCPT TO:<b@example.net>");
    deliver("Subject: spam\r\n\r\nx\r\n");
    assertEquals("550 5.7.1 Message content rejected", smtpd.onRefused(Reply.of(550, "5.7.1", "Message content rejected")).oneLine());
    assertEquals("503 5.5.1 Error: need MAIL command", say("RCPT TO:<b@example.net>"));
  }

  // --- pipelining ----------------------------------------------------------------------------

  @Test
  void pipeliningWithoutEhloIsImproper() {
    var checks = new Recording("none", Verdict.DUNNO);
    smtpd = protocol(SmtpdSettings.defaults(HOST), checks);
    assertInstanceOf(Step.Respond.class, smtpd.onCommand("HELO client.example", false));
    assertInstanceOf(Step.Respond.class, smtpd.onCommand("MAIL FROM:<a@remote.example>", true));
    assertTrue(checks.asked.getLast().improperPipelining());
    assertTrue(logLines().contains("improper command pipelining after MAIL from client.example[192.0.2.10]"), logLines().toString());
  }

  @Test
  void pipeliningAfterEhloIsFineUntilDataOrEhlo() {
    var checks = new Recording("none", Verdict.DUNNO);
    smtpd = protocol(SmtpdSettings.defaults(HOST), checks);
    smtpd.onCommand("EHLO client.example", false);
    smtpd.onCommand("MAIL FROM:<a@remote.example>", true);
    smtpd.onCommand("RCPT TO:<b@example.net>", true);
    assertFalse(checks.asked.getLast().improperPipelining());
    smtpd.onCommand("DATA", true);
    assertTrue(checks.asked.getLast().improperPipelining());
  }

  @Test
  void settingsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> new SmtpdSettings(" ", 1000, 1, 1, 1, "mta", false, false, false));
    assertThrows(IllegalArgumentException.class, () -> new SmtpdSettings(HOST, 0, 1, 1, 1, "mta", false, false, false));
    assertThrows(IllegalArgumentException.class, () -> new SmtpdSettings(HOST, 1000, 0, 1, 1, "mta", false, false, false));
    assertThrows(IllegalArgumentException.class, () -> new SmtpdSettings(HOST, 1000, 1, 1, 0, "mta", false, false, false));
  }
}

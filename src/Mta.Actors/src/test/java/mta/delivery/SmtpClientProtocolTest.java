package mta.delivery;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import mta.delivery.SmtpClientProtocol.Capabilities;
import mta.delivery.SmtpClientProtocol.Next;
import mta.delivery.SmtpClientProtocol.Next.Await;
import mta.delivery.SmtpClientProtocol.Next.Closed;
import mta.delivery.SmtpClientProtocol.Next.Ready;
import mta.delivery.SmtpClientProtocol.Next.SessionFailed;
import mta.delivery.SmtpClientProtocol.Next.TransactionDone;
import mta.delivery.SmtpClientProtocol.Next.Write;
import mta.delivery.SmtpClientProtocol.RecipientResult;
import mta.delivery.SmtpClientProtocol.Stage;
import mta.delivery.SmtpClientProtocol.Transaction;
import mta.mail.MailAddress;
import mta.mail.Reply;
import org.junit.jupiter.api.Test;

/** Scripted conversations with a fake server, written as the lines on the wire. */
class SmtpClientProtocolTest {

  private static final MailAddress ALICE = MailAddress.parse("alice@example.org");
  private static final MailAddress BOB = MailAddress.parse("bob@example.com");
  private static final MailAddress CAROL = MailAddress.parse("carol@example.com");
  private static final MailAddress DAVE = MailAddress.parse("dave@example.com");
  private static final String CONTENT = "Subject: x\r\n\r\nhello\r\n";

  private final SmtpClientProtocol smtp = new SmtpClientProtocol("client.example");

  // --- the script ---

  /** Feeds the server's lines; every line but the last must leave the client waiting. */
  private Next server(String... lines) {
    for (int i = 0; i < lines.length - 1; i++) assertInstanceOf(Await.class, smtp.onLine(lines[i]), lines[i]);
    return smtp.onLine(lines[lines.length - 1]);
  }

  private static void assertWrites(String expected, Next next) {
    assertEquals(expected, new String(assertInstanceOf(Write.class, next).bytes(), ISO_8859_1));
  }

  /** Connects, greets and answers EHLO with these keywords. */
  private Capabilities establish(String... keywords) {
    assertInstanceOf(Await.class, smtp.onConnected());
    assertWrites("EHLO client.example\r\n", server("220 mx.example.com ESMTP"));
    var lines = new ArrayList<>(List.of("mx.example.com"));
    lines.addAll(List.of(keywords));
    var wire = new ArrayList<String>();
    for (int i = 0; i < lines.size(); i++) wire.add("250" + (i == lines.size() - 1 ? " " : "-") + lines.get(i));
    return assertInstanceOf(Ready.class, server(wire.toArray(String[]::new))).capabilities();
  }

  private static Transaction message(String content, MailAddress... recipients) {
    return new Transaction(ALICE, List.of(recipients), content.getBytes(ISO_8859_1));
  }

  private static List<String> outcome(Next next) {
    return outcome(assertInstanceOf(TransactionDone.class, next).results());
  }

  private static List<String> outcome(List<RecipientResult> results) {
    return results.stream().map(r -> r.recipient() + ": " + r.reply().oneLine()).toList();
  }

  // --- session setup ---

  @Test
  void parsesTheEhloKeywords() {
    var caps = establish("PIPELINING", "size 35882577", "8BITMIME", "ENHANCEDSTATUSCODES",
        "STARTTLS", "AUTH=LOGIN", "AUTH PLAIN cram-md5", "DSN", "SMTPUTF8");
    assertEquals(new Capabilities(true, true, 35882577, true, true, true,
        Set.of("LOGIN", "PLAIN", "CRAM-MD5"), true), caps);
  }

  @Test
  void acceptsAMultiLineGreeting() {
    smtp.onConnected();
    assertWrites("EHLO client.example\r\n", server("220-mx.example.com ESMTP", "220-no UCE", "220 welcome"));
  }

  @Test
  void ehloRejectedFallsBackToHelo() {
    smtp.onConnected();
    server("220 mx.example.com ESMTP");
    assertWrites("HELO client.example\r\n", server("502 5.5.2 Error: command not recognized"));
    assertEquals(new Ready(Capabilities.NONE), server("250 mx.example.com"));
    assertWrites("MAIL FROM:<alice@example.org>\r\n", smtp.send(message(CONTENT, BOB)));
  }

  @Test
  void ehloTemporaryFailureEndsTheSession() {
    smtp.onConnected();
    server("220 mx.example.com ESMTP");
    var failed = assertInstanceOf(SessionFailed.class, server("454 4.7.0 try later"));
    assertEquals(Stage.EHLO, failed.stage());
  }

  @Test
  void heloRejectedEndsTheSession() {
    smtp.onConnected();
    server("220 mx.example.com ESMTP");
    server("500 5.5.1 what");
    assertEquals(new SessionFailed(Stage.HELO, Reply.of(550, "5.7.1", "go away"), List.of()),
        server("550 5.7.1 go away"));
  }

  @Test
  void greeting554EndsTheSession() {
    smtp.onConnected();
    assertEquals(new SessionFailed(Stage.GREETING, Reply.plain(554, "mx.example.com No SMTP service here"), List.of()),
        server("554 mx.example.com No SMTP service here"));
    assertEquals(Stage.CLOSED, smtp.stage());
  }

  @Test
  void greeting421EndsTheSession() {
    smtp.onConnected();
    var failed = assertInstanceOf(SessionFailed.class, server("421 4.3.2 Service shutting down"));
    assertEquals(Stage.GREETING, failed.stage());
    assertEquals("421 4.3.2 Service shutting down", failed.reason().oneLine());
  }

  // --- transactions ---

  @Test
  void pipelinedHappyPathWithOneRecipientRejected() {
    establish("PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES");
    assertWrites("""
        MAIL FROM:<alice@example.org> SIZE=21\r
        RCPT TO:<bob@example.com>\r
        RCPT TO:<carol@example.com>\r
        RCPT TO:<dave@example.com>\r
        DATA\r
        """, smtp.send(message(CONTENT, BOB, CAROL, DAVE)));
    assertWrites(CONTENT + ".\r\n", server(
        "250 2.1.0 Ok",
        "250 2.1.5 Ok",
        "550 5.1.1 <carol@example.com>: Recipient address rejected: User unknown",
        "250 2.1.5 Ok",
        "354 End data with <CR><LF>.<CR><LF>"));
    var done = assertInstanceOf(TransactionDone.class, server("250 2.0.0 Ok: queued as 4Xk2"));
    assertEquals(List.of(
        "bob@example.com: 250 2.0.0 Ok: queued as 4Xk2",
        "carol@example.com: 550 5.1.1 <carol@example.com>: Recipient address rejected: User unknown",
        "dave@example.com: 250 2.0.0 Ok: queued as 4Xk2"), outcome(done.results()));
    assertEquals(List.of(true, false, true), done.results().stream().map(RecipientResult::delivered).toList());
    assertTrue(done.results().get(1).bounced());
    assertEquals(Stage.READY, smtp.stage());
  }

  @Test
  void withoutPipeliningOneCommandPerRoundTrip() {
    establish("SIZE", "ENHANCEDSTATUSCODES");
    assertWrites("MAIL FROM:<alice@example.org> SIZE=21\r\n", smtp.send(message(CONTENT, BOB, CAROL)));
    assertWrites("RCPT TO:<bob@example.com>\r\n", server("250 2.1.0 Ok"));
    assertWrites("RCPT TO:<carol@example.com>\r\n", server("250 2.1.5 Ok"));
    assertWrites("DATA\r\n", server("250 2.1.5 Ok"));
    assertWrites(CONTENT + ".\r\n", server("354 go ahead"));
    assertEquals(List.of("bob@example.com: 250 2.0.0 queued", "carol@example.com: 250 2.0.0 queued"),
        outcome(server("250 2.0.0 queued")));
  }

  @Test
  void nullSenderAndEightBitContent() {
    establish("8BITMIME");
    var content = "Subject: caf\u00e9\r\n\r\n\u00e9t\u00e9\r\n";
    assertWrites("MAIL FROM:<> BODY=8BITMIME\r\n",
        smtp.send(new Transaction(MailAddress.NULL_SENDER, List.of(BOB), content.getBytes(ISO_8859_1))));
  }

  @Test
  void noBodyParameterWithoutEightBitContentOrWithoutTheExtension() {
    establish("8BITMIME");
    assertWrites("MAIL FROM:<alice@example.org>\r\n", smtp.send(message(CONTENT, BOB)));
    var plain = new SmtpClientProtocol("client.example");
    plain.onConnected();
    plain.onLine("220 mx");
    plain.onLine("250 mx");
    assertWrites("MAIL FROM:<alice@example.org>\r\n", plain.send(message("\u00e9\r\n", BOB)));
  }

  @Test
  void mailRejectedWhenPipelinedGivesEveryRecipientTheMailReplyAndResets() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL));
    assertWrites("RSET\r\n", server(
        "553 5.7.1 <alice@example.org>: Sender address rejected",
        "503 5.5.1 Error: need MAIL command",
        "503 5.5.1 Error: need MAIL command",
        "503 5.5.1 Error: need RCPT command"));
    assertEquals(List.of(
        "bob@example.com: 553 5.7.1 <alice@example.org>: Sender address rejected",
        "carol@example.com: 553 5.7.1 <alice@example.org>: Sender address rejected"),
        outcome(server("250 2.0.0 Ok")));
    assertEquals(Stage.READY, smtp.stage());
  }

  @Test
  void mailRejectedWithoutPipeliningResetsAtOnce() {
    establish();
    smtp.send(message(CONTENT, BOB));
    assertWrites("RSET\r\n", server("451 4.3.0 try later"));
    var done = assertInstanceOf(TransactionDone.class, server("250 Ok"));
    assertTrue(done.results().getFirst().deferred());
  }

  @Test
  void allRecipientsRejectedWhenPipelinedSendsNoContentButRset() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL));
    assertWrites("RSET\r\n", server(
        "250 2.1.0 Ok",
        "550 5.1.1 <bob@example.com>: User unknown",
        "450 4.2.0 <carol@example.com>: Greylisted",
        "554 5.5.1 Error: no valid recipients"));
    assertEquals(List.of(
        "bob@example.com: 550 5.1.1 <bob@example.com>: User unknown",
        "carol@example.com: 450 4.2.0 <carol@example.com>: Greylisted"), outcome(server("250 2.0.0 Ok")));
  }

  @Test
  void allRecipientsRejectedWithoutPipeliningSendsNoData() {
    establish();
    smtp.send(message(CONTENT, BOB, CAROL));
    server("250 Ok");
    server("550 5.1.1 unknown");
    assertWrites("RSET\r\n", server("550 5.1.1 unknown"));
    assertEquals(List.of("bob@example.com: 550 5.1.1 unknown", "carol@example.com: 550 5.1.1 unknown"),
        outcome(server("250 Ok")));
  }

  @Test
  void aPipelinedServerThatAccepts354WithoutRecipientsIsOutOfStep() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB));
    var failed = assertInstanceOf(SessionFailed.class, server("250 Ok", "550 5.1.1 unknown", "354 go ahead"));
    assertEquals(List.of("bob@example.com: 550 5.1.1 unknown"), outcome(failed.results()));
  }

  @Test
  void a452OnOneRecipientDefersOnlyThatOne() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL));
    server("250 Ok", "250 Ok", "452 4.5.3 Error: too many recipients", "354 go ahead");
    var done = assertInstanceOf(TransactionDone.class, server("250 2.0.0 queued"));
    assertEquals(List.of(true, false), done.results().stream().map(RecipientResult::delivered).toList());
    assertTrue(done.results().get(1).deferred());
  }

  @Test
  void aMultiLineRejectionIsKeptWhole() {
    establish();
    smtp.send(message(CONTENT, BOB, CAROL));
    server("250 Ok");
    assertWrites("RCPT TO:<carol@example.com>\r\n",
        server("550-5.1.1 The email account that you tried to reach does not exist.", "550 5.1.1 Please check."));
    server("250 Ok");
    server("354 go ahead");
    var done = assertInstanceOf(TransactionDone.class, server("250 Ok"));
    assertEquals(new Reply(550, "5.1.1", List.of("The email account that you tried to reach does not exist.", "Please check.")),
        done.results().getFirst().reply());
  }

  @Test
  void dataRejectedGoesToTheAcceptedRecipientsAndResets() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL));
    assertWrites("RSET\r\n", server("250 Ok", "250 Ok", "550 5.1.1 unknown", "451 4.3.0 no DATA now"));
    assertEquals(List.of("bob@example.com: 451 4.3.0 no DATA now", "carol@example.com: 550 5.1.1 unknown"),
        outcome(server("250 Ok")));
  }

  @Test
  void finalTemporaryFailureDefersTheAcceptedRecipients() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL));
    server("250 Ok", "250 Ok", "550 5.1.1 unknown", "354 go ahead");
    var done = assertInstanceOf(TransactionDone.class, server("451 4.3.0 Error: queue file write error"));
    assertEquals(List.of("bob@example.com: 451 4.3.0 Error: queue file write error", "carol@example.com: 550 5.1.1 unknown"),
        outcome(done.results()));
    assertTrue(done.results().getFirst().deferred());
    assertEquals(Stage.READY, smtp.stage());
  }

  @Test
  void finalPermanentFailureBouncesTheAcceptedRecipients() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL));
    server("250 Ok", "250 Ok", "250 Ok", "354 go ahead");
    var done = assertInstanceOf(TransactionDone.class, server("554 5.7.1 Message rejected as spam"));
    assertTrue(done.results().stream().allMatch(RecipientResult::bounced));
  }

  @Test
  void anOutOfPlaceFinalReplyIsALocalTemporaryFailure() {
    establish();
    smtp.send(message(CONTENT, BOB));
    server("250 Ok");
    server("250 Ok");
    server("354 go ahead");
    var done = assertInstanceOf(TransactionDone.class, server("354 again?"));
    assertEquals("bob@example.com: 451 4.5.0 protocol error while sending end of data -- message may be sent"
        + " more than once: unexpected reply 354 again?", outcome(done.results()).getFirst());
  }

  @Test
  void a421MidTransactionFailsTheUndecidedRecipientsAndClosesTheSession() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL, DAVE));
    var failed = assertInstanceOf(SessionFailed.class, server(
        "250 2.1.0 Ok",
        "550 5.1.1 unknown",
        "421 4.4.2 mx.example.com Error: timeout exceeded"));
    assertEquals(Stage.RCPT, failed.stage());
    assertEquals(List.of(
        "bob@example.com: 550 5.1.1 unknown",
        "carol@example.com: 421 4.4.2 mx.example.com Error: timeout exceeded",
        "dave@example.com: 421 4.4.2 mx.example.com Error: timeout exceeded"), outcome(failed.results()));
    assertEquals(Stage.CLOSED, smtp.stage());
  }

  @Test
  void a421AsTheFinalReplyClosesTheSession() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB));
    server("250 Ok", "250 Ok", "354 go ahead");
    var failed = assertInstanceOf(SessionFailed.class, server("421 4.3.0 shutting down"));
    assertEquals(Stage.CONTENT, failed.stage());
    assertTrue(failed.results().getFirst().deferred());
  }

  @Test
  void a421WhileIdleClosesTheSession() {
    establish();
    assertEquals(new SessionFailed(Stage.READY, Reply.of(421, "4.4.2", "idle timeout"), List.of()),
        server("421 4.4.2 idle timeout"));
  }

  @Test
  void lostConnectionDefersTheTransactionInFlight() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB, CAROL));
    server("250 Ok", "550 5.1.1 unknown", "250 Ok", "354 go ahead");
    var failed = assertInstanceOf(SessionFailed.class, smtp.onDisconnected());
    assertEquals(List.of(
        "bob@example.com: 550 5.1.1 unknown",
        "carol@example.com: 451 4.4.2 lost connection while sending end of data -- message may be sent more than once"),
        outcome(failed.results()));
  }

  @Test
  void aMalformedReplyIsAProtocolError() {
    establish();
    smtp.send(message(CONTENT, BOB));
    var failed = assertInstanceOf(SessionFailed.class, server("hello there"));
    assertEquals("451 4.5.0 protocol error while sending MAIL FROM: malformed server reply: hello there",
        failed.reason().oneLine());
    assertTrue(failed.results().getFirst().deferred());
  }

  @Test
  void twoTransactionsOnOneSessionThenQuit() {
    establish("PIPELINING");
    smtp.send(message(CONTENT, BOB));
    server("250 Ok", "250 Ok", "354 go ahead");
    assertEquals(List.of("bob@example.com: 250 2.0.0 queued as A1"), outcome(server("250 2.0.0 queued as A1")));

    assertWrites("MAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\n",
        smtp.send(message(".second\r\n", CAROL)));
    assertWrites("..second\r\n.\r\n", server("250 Ok", "250 Ok", "354 go ahead"));
    assertEquals(List.of("carol@example.com: 250 2.0.0 queued as B2"), outcome(server("250 2.0.0 queued as B2")));

    assertWrites("QUIT\r\n", smtp.quit());
    assertEquals(new Closed(), server("221 2.0.0 Bye"));
  }

  @Test
  void aMessageOverTheServersSizeLimitIsNotOffered() {
    establish("PIPELINING", "SIZE 20");
    var done = assertInstanceOf(TransactionDone.class, smtp.send(message(CONTENT, BOB, CAROL)));
    assertEquals(List.of(
        "bob@example.com: 552 5.3.4 message size 21 exceeds size limit 20 of server",
        "carol@example.com: 552 5.3.4 message size 21 exceeds size limit 20 of server"), outcome(done.results()));
    assertTrue(done.results().stream().allMatch(RecipientResult::bounced));
    assertWrites("MAIL FROM:<alice@example.org> SIZE=5\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n",
        smtp.send(message("tiny\n", BOB)));
  }

  @Test
  void anIdleHangUpIsAnOrderlyClose() {
    establish();
    assertEquals(new Closed(), smtp.onDisconnected());
  }

  @Test
  void aTransactionNeedsAnIdleSession() {
    smtp.onConnected();
    assertThrows(IllegalStateException.class, () -> smtp.send(message(CONTENT, BOB)));
  }
}

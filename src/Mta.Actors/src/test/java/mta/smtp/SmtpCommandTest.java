package mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import mta.mail.MailAddress;
import mta.mail.Reply;
import mta.smtp.SmtpCommand.Parsed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SmtpCommandTest {

  private static SmtpCommand command(String line) {
    return assertInstanceOf(Parsed.Command.class, SmtpCommand.parse(line), line).command();
  }

  private static Parsed.SyntaxError error(String line) {
    return assertInstanceOf(Parsed.SyntaxError.class, SmtpCommand.parse(line), line);
  }

  private static MailAddress sender(String line) {
    return assertInstanceOf(SmtpCommand.Mail.class, command(line)).sender();
  }

  private static MailAddress recipient(String line) {
    return assertInstanceOf(SmtpCommand.Rcpt.class, command(line)).recipient();
  }

  @Test
  void verbsAreCaseInsensitive() {
    assertEquals(new SmtpCommand.Helo("client.example"), command("helo client.example"));
    assertEquals(new SmtpCommand.Ehlo("client.example"), command("EhLo client.example"));
    assertEquals(new SmtpCommand.Data(), command("data"));
    assertEquals(new SmtpCommand.Quit(), command("Quit"));
    assertEquals(new MailAddress("a", "b.example"), sender("mail from:<a@b.example>"));
  }

  @Test
  void simpleCommands() {
    assertEquals(new SmtpCommand.Rset(), command("RSET"));
    assertEquals(new SmtpCommand.Noop(), command("NOOP"));
    assertEquals(new SmtpCommand.Noop(), command("NOOP anything at all"));
    assertEquals(new SmtpCommand.Quit(), command("QUIT now"));
    assertEquals(new SmtpCommand.Help(), command("HELP MAIL"));
    assertEquals(new SmtpCommand.Starttls(), command("STARTTLS"));
    assertEquals(new SmtpCommand.Vrfy("<postmaster@example.net>"), command("VRFY <postmaster@example.net>"));
    assertEquals(new SmtpCommand.Auth("PLAIN AHVzZXIAcGFzcw=="), command("AUTH PLAIN AHVzZXIAcGFzcw=="));
  }

  @Test
  void heloKeepsItsWholeArgument() {
    assertEquals(new SmtpCommand.Helo("[192.0.2.1]"), command("HELO [192.0.2.1]"));
    assertEquals(new SmtpCommand.Ehlo("two words"), command("EHLO   two words  "));
  }

  @Test
  void heloAndEhloNeedAnArgumentAndAnswerWithoutEnhancedCode() {
    assertEquals(Reply.plain(501, "Syntax: HELO hostname"), error("HELO").reply());
    assertEquals(Reply.plain(501, "Syntax: EHLO hostname"), error("EHLO   ").reply());
    assertEquals("EHLO", error("ehlo").verb());
  }

  @Test
  void argumentsWhereNoneBelong() {
    assertEquals("501 5.5.4 Syntax: DATA", error("DATA now").reply().oneLine());
    assertEquals("501 5.5.4 Syntax: RSET", error("RSET x").reply().oneLine());
    assertEquals("501 5.5.4 Syntax: STARTTLS", error("STARTTLS x").reply().oneLine());
    assertEquals("501 5.5.4 Syntax: VRFY address", error("VRFY").reply().oneLine());
  }

  @Test
  void blankLineIsBadSyntax() {
    assertEquals("500 5.5.2 Error: bad syntax", error("").reply().oneLine());
    assertEquals("500 5.5.2 Error: bad syntax", error("   ").reply().oneLine());
  }

  @Test
  void unknownVerbsKeepTheirSpelling() {
    assertEquals(new SmtpCommand.Unknown("ETRN"), command("ETRN example.net"));
    assertEquals(new SmtpCommand.Unknown("Frobnicate"), command("Frobnicate"));
    assertEquals(new SmtpCommand.Unknown("BDAT"), command("BDAT 100 LAST"));
  }

  @Test
  void namesAreTheLoggedStages() {
    assertEquals("MAIL", command("MAIL FROM:<>").name());
    assertEquals("RCPT", command("RCPT TO:<a@b>").name());
    assertEquals("STARTTLS", command("STARTTLS").name());
    assertEquals("UNKNOWN", command("XYZZY").name());
  }

  @Test
  void mailWithParameters() {
    var mail = assertInstanceOf(SmtpCommand.Mail.class, command("MAIL FROM:<a@b.example> SIZE=123 body=8BITMIME"));
    assertEquals(new MailAddress("a", "b.example"), mail.sender());
    assertEquals(Map.of("SIZE", "123", "BODY", "8BITMIME"), mail.params());
    assertEquals(List.of("SIZE", "BODY"), List.copyOf(mail.params().keySet()));
  }

  @Test
  void parameterWithoutValue() {
    var mail = assertInstanceOf(SmtpCommand.Mail.class, command("MAIL FROM:<a@b> SMTPUTF8"));
    assertEquals(Map.of("SMTPUTF8", ""), mail.params());
  }

  @Test
  void rcptWithParameters() {
    var rcpt = assertInstanceOf(SmtpCommand.Rcpt.class, command("RCPT TO:<x@y.example> NOTIFY=NEVER\tORCPT=rfc822;x@y.example"));
    assertEquals(new MailAddress("x", "y.example"), rcpt.recipient());
    assertEquals(Map.of("NOTIFY", "NEVER", "ORCPT", "rfc822;x@y.example"), rcpt.params());
  }

  @Test
  void nullSender() {
    assertEquals(MailAddress.NULL_SENDER, sender("MAIL FROM:<>"));
    assertEquals(MailAddress.NULL_SENDER, sender("MAIL FROM: <> SIZE=10"));
  }

  @Test
  void spaceAfterColonIsTolerated() {
    assertEquals(new MailAddress("a", "b"), sender("MAIL FROM: <a@b>"));
    assertEquals(new MailAddress("x", "y"), recipient("RCPT TO:  <x@y>"));
    assertEquals(new MailAddress("a", "b"), sender("MAIL\tFROM:<a@b>"));
  }

  @Test
  void bareAddressesAreAccepted() {
    assertEquals(new MailAddress("a", "b.example"), sender("MAIL FROM:a@b.example"));
    var mail = assertInstanceOf(SmtpCommand.Mail.class, command("MAIL FROM:a@b.example SIZE=5"));
    assertEquals(Map.of("SIZE", "5"), mail.params());
    assertEquals(new MailAddress("x", "y"), recipient("RCPT TO: x@y"));
  }

  @Test
  void domainIsNormalisedLocalPartKeepsCase() {
    assertEquals(new MailAddress("John.Doe", "example.net"), recipient("RCPT TO:<John.Doe@EXAMPLE.Net.>"));
  }

  @Test
  void sourceRouteIsDropped() {
    assertEquals(new MailAddress("user", "c.example"), recipient("RCPT TO:<@a.example,@b.example:user@c.example>"));
    assertEquals(new MailAddress("user", "c"), sender("MAIL FROM:<@a:user@c>"));
    assertEquals(new MailAddress("user", "c"), recipient("RCPT TO:@a:user@c"));
  }

  @Test
  void quotedLocalPartsKeepTheirQuotes() {
    assertEquals(new MailAddress("\"a b\"", "c.example"), recipient("RCPT TO:<\"a b\"@c.example>"));
    assertEquals(new MailAddress("\"user@other\"", "c.example"), recipient("RCPT TO:<\"user@other\"@c.example>"));
    assertEquals(new MailAddress("\"a>b\"", "c"), recipient("RCPT TO:<\"a>b\"@c>"));
    assertEquals(new MailAddress("\"a\\\"b\"", "c"), recipient("RCPT TO:<\"a\\\"b\"@c>"));
    assertEquals(new MailAddress("\"a b\"", "c"), sender("MAIL FROM:\"a b\"@c SIZE=1"));
  }

  @Test
  void quotedAtWithoutDomainIsALocalPart() {
    assertEquals(new MailAddress("\"user@other\"", ""), recipient("RCPT TO:<\"user@other\">"));
  }

  @Test
  void routingCharactersSurviveParsing() {
    assertEquals(new MailAddress("user%other", "ours"), recipient("RCPT TO:<user%other@ours>"));
    assertEquals(new MailAddress("other!user", "ours"), recipient("RCPT TO:<other!user@ours>"));
    // Split at the last @, as Postfix does: the local part is user@other.
    assertEquals(new MailAddress("user@other", "ours"), recipient("RCPT TO:<user@other@ours>"));
  }

  @Test
  void postmasterWithoutDomainIsLegal() {
    assertEquals(new MailAddress("postmaster", ""), recipient("RCPT TO:<postmaster>"));
    assertEquals(new MailAddress("Postmaster", ""), recipient("RCPT TO:<Postmaster>"));
  }

  @Test
  void addressLiteral() {
    assertEquals(new MailAddress("u", "[192.0.2.1]"), recipient("RCPT TO:<u@[192.0.2.1]>"));
    assertEquals(new MailAddress("u", "[ipv6:2001:db8::1]"), recipient("RCPT TO:<u@[IPv6:2001:db8::1]>"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "MAIL FROM:<a b@c>", "MAIL FROM:<a@b", "MAIL FROM:<<a@b>>", "MAIL FROM:a@b>", "MAIL FROM:<\"a@b>",
      "MAIL FROM:<a@b>junk", "MAIL FROM:<a@>", "MAIL FROM:<@a>", "MAIL FROM:<a@b,c>", "MAIL FROM:<a@[1.2.3.4>",
      "MAIL FROM:<a@b c>", "MAIL FROM:<(comment)a@b>", "MAIL FROM:<@b>", "MAIL FROM:<a@b@>", "MAIL FROM:<a;b@c>",
      "MAIL FROM:<a\u0001b@c>", "MAIL FROM:<@a:>", "MAIL FROM:<a@[]>", "MAIL FROM:<a@[1.2].3>", "MAIL FROM:\"a b@c"})
  void badSenderSyntax(String line) {
    var error = error(line);
    assertEquals("501 5.1.7 Bad sender address syntax", error.reply().oneLine());
    assertEquals("MAIL", error.verb());
  }

  @ParameterizedTest
  @ValueSource(strings = {"RCPT TO:<>", "RCPT TO:<x y@z>", "RCPT TO:<x@y", "RCPT TO:x@y>", "RCPT TO:<a@b:c>"})
  void badRecipientSyntax(String line) {
    var error = error(line);
    assertEquals("501 5.1.3 Bad recipient address syntax", error.reply().oneLine());
    assertEquals("RCPT", error.verb());
  }

  @ParameterizedTest
  @ValueSource(strings = {"MAIL", "MAIL TO:<a@b>", "MAIL FROM:", "MAIL FROM:   ", "MAIL FROM <a@b>", "MAIL <a@b>"})
  void mailUsage(String line) {
    assertEquals("501 5.5.4 Syntax: MAIL FROM:<address>", error(line).reply().oneLine());
  }

  @ParameterizedTest
  @ValueSource(strings = {"RCPT", "RCPT FROM:<a@b>", "RCPT TO:", "RCPT TO <a@b>"})
  void rcptUsage(String line) {
    assertEquals("501 5.5.4 Syntax: RCPT TO:<address>", error(line).reply().oneLine());
  }

  @Test
  void parametersAreReadOnly() {
    var mail = assertInstanceOf(SmtpCommand.Mail.class, command("MAIL FROM:<a@b> SIZE=1"));
    assertThrows(UnsupportedOperationException.class, () -> mail.params().put("X", "y"));
  }
}

package mta.smtp;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import mta.mail.MailAddress;
import mta.mail.Reply;

/**
 * One SMTP command line, parsed. Verbs are case-insensitive. Parsing checks syntax only; whether
 * a command is allowed now, and whether its parameters are supported, is the protocol's call
 * (Postfix answers {@code 503} for a command out of sequence before it looks at the syntax).
 *
 * <p>Envelope addresses are read as Postfix does with {@code strict_rfc821_envelopes = no}:
 * {@code MAIL FROM:<a@b>}, {@code MAIL FROM: <a@b>} and {@code MAIL FROM:a@b} all work. A source
 * route ({@code <@a,@b:user@c>}) is dropped, as RFC 5321 §C lets a server do. With
 * {@code strict_rfc821_envelopes = yes} the angle brackets are required and a source route is
 * a syntax error. A quoted local
 * part keeps its quotes. Whitespace outside quotes, unbalanced brackets or quotes and stray
 * specials are a syntax error.
 */
public sealed interface SmtpCommand {

  record Helo(String domain) implements SmtpCommand {}

  record Ehlo(String domain) implements SmtpCommand {}

  /** @param params ESMTP parameters, keyword upper-cased, in the order given; "" for no value */
  record Mail(MailAddress sender, Map<String, String> params) implements SmtpCommand {
    public Mail {
      params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }
  }

  /** @param params ESMTP parameters, keyword upper-cased, in the order given; "" for no value */
  record Rcpt(MailAddress recipient, Map<String, String> params) implements SmtpCommand {
    public Rcpt {
      params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }
  }

  record Data() implements SmtpCommand {}

  record Rset() implements SmtpCommand {}

  record Noop() implements SmtpCommand {}

  record Quit() implements SmtpCommand {}

  /** @param argument as the client wrote it: Postfix answers with it unchanged */
  record Vrfy(String argument) implements SmtpCommand {}

  record Help() implements SmtpCommand {}

  record Starttls() implements SmtpCommand {}

  record Auth(String args) implements SmtpCommand {}

  /** @param verb as the client spelled it */
  record Unknown(String verb) implements SmtpCommand {}

  /** The command's name as Postfix logs the session stage: {@code MAIL}, {@code UNKNOWN}. */
  default String name() {
    return getClass().getSimpleName().toUpperCase(Locale.ROOT);
  }

  /** A parse result: a command, or the reply that refuses the line. */
  sealed interface Parsed {
    record Command(SmtpCommand command) implements Parsed {}

    /** @param verb the upper-cased verb, so that sequence errors can still take precedence */
    record SyntaxError(String verb, Reply reply) implements Parsed {}
  }

  /** Parses one command line, without its CRLF, leniently. */
  static Parsed parse(String line) {
    return parse(line, false);
  }

  /** Parses one command line; {@code strict}: {@code strict_rfc821_envelopes}. */
  static Parsed parse(String line, boolean strict) {
    var text = line.strip();
    int space = 0;
    while (space < text.length() && !isSpace(text.charAt(space))) space++;
    var spelled = text.substring(0, space);
    var verb = spelled.toUpperCase(Locale.ROOT);
    var arg = text.substring(space).strip();
    return switch (verb) {
      case "" -> new Parsed.SyntaxError("UNKNOWN", Reply.of(500, "5.5.2", "Error: bad syntax"));
      // RFC 2034: no enhanced codes in replies to HELO and EHLO, and Postfix keeps to that.
      case "HELO" -> arg.isEmpty() ? syntax(verb, Reply.plain(501, "Syntax: HELO hostname")) : command(new Helo(arg));
      case "EHLO" -> arg.isEmpty() ? syntax(verb, Reply.plain(501, "Syntax: EHLO hostname")) : command(new Ehlo(arg));
      case "MAIL", "RCPT" -> path(verb, arg, strict);
      case "DATA" -> bare(verb, arg, new Data());
      case "RSET" -> bare(verb, arg, new Rset());
      case "STARTTLS" -> bare(verb, arg, new Starttls());
      case "NOOP" -> command(new Noop()); // RFC 5321 §4.1.1.9: a NOOP argument is ignored
      case "QUIT" -> command(new Quit());
      case "HELP" -> command(new Help());
      case "VRFY" -> arg.isEmpty() ? syntax(verb, Reply.of(501, "5.5.4", "Syntax: VRFY address")) : command(new Vrfy(arg));
      case "AUTH" -> command(new Auth(arg));
      default -> command(new Unknown(spelled));
    };
  }

  private static Parsed command(SmtpCommand command) {
    return new Parsed.Command(command);
  }

  private static Parsed syntax(String verb, Reply reply) {
    return new Parsed.SyntaxError(verb, reply);
  }

  /** A command that takes no argument. */
  private static Parsed bare(String verb, String arg, SmtpCommand command) {
    return arg.isEmpty() ? command(command) : syntax(verb, Reply.of(501, "5.5.4", "Syntax: " + verb));
  }

  /** {@code MAIL FROM:<path> [params]} and {@code RCPT TO:<path> [params]}. */
  private static Parsed path(String verb, String arg, boolean strict) {
    boolean mail = verb.equals("MAIL");
    var keyword = mail ? "FROM:" : "TO:";
    var usage = Reply.of(501, "5.5.4", mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
    var badAddress = mail
        ? Reply.of(501, "5.1.7", "Bad sender address syntax")
        : Reply.of(501, "5.1.3", "Bad recipient address syntax");
    if (!arg.regionMatches(true, 0, keyword, 0, keyword.length())) return syntax(verb, usage);
    var rest = arg.substring(keyword.length()).strip();
    if (rest.isEmpty()) return syntax(verb, usage);
    int end = pathEnd(rest);
    boolean strictViolation = strict && (!rest.startsWith("<") || rest.startsWith("<@"));
    var address = end < 0 || strictViolation ? null : address(rest.substring(0, end), mail);
    if (address == null) return syntax(verb, badAddress);
    var params = parameters(rest.substring(end));
    return command(mail ? new Mail(address, params) : new Rcpt(address, params));
  }

  /** Where the path ends: after its {@code >}, or at the first space outside quotes; -1 if unbalanced. */
  private static int pathEnd(String rest) {
    boolean bracketed = rest.charAt(0) == '<';
    boolean quoted = false;
    for (int i = bracketed ? 1 : 0; i < rest.length(); i++) {
      char c = rest.charAt(i);
      if (quoted) {
        if (c == '\\') i++;
        else if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (bracketed && c == '>') {
        return i + 1 == rest.length() || isSpace(rest.charAt(i + 1)) ? i + 1 : -1;
      } else if (!bracketed && isSpace(c)) {
        return i;
      }
    }
    return bracketed || quoted ? -1 : rest.length();
  }

  /** The address inside a path, or null when it is not one. {@code <>} is only a sender. */
  private static MailAddress address(String path, boolean mail) {
    var inner = path.startsWith("<") ? path.substring(1, path.length() - 1) : path;
    if (inner.isEmpty()) return mail ? MailAddress.NULL_SENDER : null;
    if (inner.startsWith("@")) {
      // RFC 5321 §C: a server SHOULD ignore a source route. Dropping it also keeps relay
      // checks honest: <@ours:user@other> is mail for other, whatever it claims to pass through.
      int colon = inner.indexOf(':');
      if (colon < 0) return null;
      inner = inner.substring(colon + 1);
    }
    int at = lastAtOutsideQuotes(inner);
    var local = at < 0 ? inner : inner.substring(0, at);
    var domain = at < 0 ? "" : inner.substring(at + 1);
    if (!validLocalPart(local) || (at >= 0 && !validDomain(domain))) return null;
    return new MailAddress(local, domain);
  }

  private static int lastAtOutsideQuotes(String address) {
    int at = -1;
    boolean quoted = false;
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (quoted && c == '\\') i++;
      else if (c == '"') quoted = !quoted;
      else if (!quoted && c == '@') at = i;
    }
    return at;
  }

  /**
   * Dot-atoms and quoted strings. An unquoted {@code @} is tolerated ({@code user@other@ours} is a
   * local part {@code user@other} of {@code ours}, as Postfix reads it); relay checks handle it.
   */
  private static boolean validLocalPart(String local) {
    if (local.isEmpty()) return false;
    boolean quoted = false;
    for (int i = 0; i < local.length(); i++) {
      char c = local.charAt(i);
      if (quoted) {
        if (c == '\\') {
          if (++i == local.length() || isControl(local.charAt(i))) return false;
        } else if (c == '"') {
          quoted = false;
        } else if (isControl(c)) {
          return false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c != '@' && !isAtomText(c)) {
        return false;
      }
    }
    return !quoted;
  }

  /** A host name, leniently, or an address literal such as {@code [192.0.2.1]}. */
  private static boolean validDomain(String domain) {
    if (domain.startsWith("[")) {
      if (domain.length() < 3 || !domain.endsWith("]")) return false;
      return domain.substring(1, domain.length() - 1).chars()
          .allMatch(c -> c != '[' && c != ']' && c != '\\' && !isSpace((char) c) && !isControl((char) c));
    }
    return !domain.isEmpty() && domain.chars().allMatch(c -> isAtomText((char) c));
  }

  /** Anything but whitespace, controls and RFC 5322 specials (the dot is allowed). */
  private static boolean isAtomText(char c) {
    return c > ' ' && c != 0x7f && "()<>,;:\\\"[]@".indexOf(c) < 0;
  }

  private static boolean isControl(char c) {
    return (c < ' ' && c != '\t') || c == 0x7f;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }

  private static Map<String, String> parameters(String text) {
    var params = new LinkedHashMap<String, String>();
    for (var word : text.strip().split("[ \t]+")) {
      if (word.isEmpty()) continue;
      int eq = word.indexOf('=');
      var key = (eq < 0 ? word : word.substring(0, eq)).toUpperCase(Locale.ROOT);
      params.put(key, eq < 0 ? "" : word.substring(eq + 1));
    }
    return params;
  }
}

package mta.smtp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import mta.anvil.Anvil;
import mta.anvil.AnvilClient;
import mta.anvil.ClientLimits;
import mta.mail.Dsn;
import mta.mail.Envelope;
import mta.mail.MailAddress;
import mta.mail.Reply;
import mta.maps.LookupFailure;
import mta.smtp.SmtpChecks.Verdict;
import mta.smtp.SmtpCommand.Auth;
import mta.smtp.SmtpCommand.Data;
import mta.smtp.SmtpCommand.Ehlo;
import mta.smtp.SmtpCommand.Helo;
import mta.smtp.SmtpCommand.Help;
import mta.smtp.SmtpCommand.Mail;
import mta.smtp.SmtpCommand.Noop;
import mta.smtp.SmtpCommand.Parsed;
import mta.smtp.SmtpCommand.Quit;
import mta.smtp.SmtpCommand.Rcpt;
import mta.smtp.SmtpCommand.Rset;
import mta.smtp.SmtpCommand.Starttls;
import mta.smtp.SmtpCommand.Unknown;
import mta.smtp.SmtpCommand.Vrfy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The smtpd side of one SMTP session, with no socket in it: the session actor feeds it command
 * lines and DATA outcomes and does what each {@link Step} says. Replies and log lines are
 * Postfix's, so that its users recognise them.
 *
 * <p>Order of checks, as in Postfix's smtpd: a command out of sequence is {@code 503} before
 * its syntax is looked at; then syntax; then parameters and limits; then the {@link SmtpChecks}
 * stage for the command (connect, HELO, MAIL, RCPT, DATA, end of data). Every 4xx/5xx reply
 * counts as an error; the reply that reaches {@code smtpd_hard_error_limit} is replaced by
 * {@code 421 ... Error: too many errors} and the session ends (Postfix sends both, back to back;
 * one reply per command keeps pipelining simple, and the client learns what matters). Errors
 * are forgiven when a message is queued.
 *
 * <p>A client refused at connect (client restrictions with {@code smtpd_delay_reject = no})
 * gets the refusal instead of the greeting, and {@code 503 5.7.0} for everything but QUIT.
 * HOLD and DISCARD actions collect in the transaction and reach {@link Step.Enqueue}. The DSN
 * parameters of RFC 3461 ({@code RET}, {@code ENVID}, {@code NOTIFY}, {@code ORCPT}) are
 * checked and kept in the {@link Envelope}.
 *
 * <p>STARTTLS (RFC 3207) forgets everything the client said before it, AUTH included. SMTP AUTH
 * (RFC 4954: PLAIN and LOGIN, each with or without an initial response) is offered only with
 * a password table, and with {@code smtpd_tls_auth_only} only under TLS; while a mechanism
 * waits for its {@code 334} answer, the next line is that answer, not a command.
 *
 * <p>Not thread-safe: it belongs to its session actor.
 */
public final class SmtpServerProtocol {

  /**
   * What the listening port asks of its clients.
   *
   * @param service the port's name in log lines ({@code smtp}, {@code submission}, {@code submissions})
   * @param tlsRequired {@code smtpd_tls_security_level = encrypt}: MAIL only after STARTTLS
   * @param implicitTls the connection is TLS from the start (submissions, RFC 8314)
   * @param authRequired MAIL only after AUTH (the submission ports)
   * @param authOnlyWithTls {@code smtpd_tls_auth_only}: AUTH is offered only under TLS
   * @param sasl the password table; null: no SMTP AUTH
   */
  public record Security(String service, boolean tlsRequired, boolean implicitTls, boolean authRequired, boolean authOnlyWithTls,
      SaslPasswords sasl) {
    public static final Security NONE = new Security("smtp", false, false, false, true, null);
  }

  /** What the session does next. */
  public sealed interface Step {
    /** Send the reply, then read the next command. */
    record Respond(Reply reply) implements Step {}

    /** Send the reply, then close the connection. */
    record RespondAndClose(Reply reply) implements Step {}

    /**
     * Send the 354, then read the body with a {@link DataReader} of
     * {@link SmtpdSettings#messageSizeLimit()} and hand its result to {@link #onData}.
     */
    record StartData(Reply reply) implements Step {}

    /**
     * Send the 220, drop whatever the client sent after STARTTLS (CVE-2011-0411: plaintext
     * commands injected before the handshake must not run inside TLS), then do the handshake.
     * The client starts over with EHLO.
     */
    record StartTls(Reply reply) implements Step {}

    /**
     * The body is in: make the message durable, then answer with {@link #onQueued} or
     * {@link #onQueueFailed}, never before (RFC 5321 §4.1.1.4); or, when cleanup refuses it,
     * with {@link #onRefused}.
     *
     * @param protocol {@code SMTP} after HELO, {@code ESMTP} after EHLO; under TLS or after AUTH
     *     {@code ESMTPS}, {@code ESMTPA} or {@code ESMTPSA} (RFC 3848)
     * @param hold a restriction said HOLD: queue the message on hold
     * @param discard a restriction said DISCARD: answer as if queued, and queue nothing
     */
    record Enqueue(Envelope envelope, byte[] content, String heloName, String protocol, boolean hold, boolean discard)
        implements Step {}
  }

  /** One mail transaction, from MAIL FROM to the end of DATA. */
  private record Transaction(
      MailAddress sender,
      Dsn.Mail dsn,
      long size,
      String instance,
      List<MailAddress> recipients,
      List<Dsn.Rcpt> recipientDsn,
      int overshoot,
      boolean hold,
      boolean discard,
      Reply deferIfPermit) {

    Transaction {
      recipients = List.copyOf(recipients);
      recipientDsn = List.copyOf(recipientDsn);
    }

    Transaction accept(MailAddress recipient, Dsn.Rcpt recipientDsn, Verdict verdict) {
      var more = new ArrayList<>(recipients);
      more.add(recipient);
      var moreDsn = new ArrayList<>(this.recipientDsn);
      moreDsn.add(recipientDsn);
      return new Transaction(sender, dsn, size, instance, more, moreDsn, overshoot, hold, discard, deferIfPermit).with(verdict);
    }

    Transaction overshot() {
      return new Transaction(sender, dsn, size, instance, recipients, recipientDsn, overshoot + 1, hold, discard, deferIfPermit);
    }

    /** HOLD and DISCARD stick for the rest of the transaction; so does a defer_if_permit. */
    Transaction with(Verdict verdict) {
      return new Transaction(sender, dsn, size, instance, recipients, recipientDsn, overshoot,
          hold || verdict.hold(), discard || verdict.discard(),
          verdict.deferIfPermit() != null ? verdict.deferIfPermit() : deferIfPermit);
    }

    /** The recipient the DATA stages are about: the only one, or none. */
    MailAddress soleRecipient() {
      return recipients.size() == 1 ? recipients.getFirst() : null;
    }

    Envelope envelope() {
      return new Envelope(sender, recipients, dsn, recipientDsn);
    }
  }

  /** Where the session stands; commands are read only in {@link Idle} and {@link MailGiven}. */
  private sealed interface Phase {
    record Idle() implements Phase {}

    record MailGiven(Transaction tx) implements Phase {}

    record ReceivingData(Transaction tx) implements Phase {}

    record Queuing(Transaction tx) implements Phase {}

    /** AUTH sent its 334; {@code user}: what LOGIN has been told so far, else null. */
    record Authenticating(String mechanism, String user) implements Phase {}
  }

  private static final Logger log = LoggerFactory.getLogger("smtpd");

  private static final Phase IDLE = new Phase.Idle();
  private static final String INSTANCE_PREFIX = Long.toHexString(ProcessHandle.current().pid());
  private static final AtomicLong INSTANCES = new AtomicLong();

  private static final Reply OK = Reply.of(250, "2.0.0", "Ok");
  private static final Reply SENDER_OK = Reply.of(250, "2.1.0", "Ok");
  private static final Reply RECIPIENT_OK = Reply.of(250, "2.1.5", "Ok");
  private static final Reply BYE = Reply.of(221, "2.0.0", "Bye");
  private static final Reply START_DATA = Reply.plain(354, "End data with <CR><LF>.<CR><LF>");
  private static final Reply READY_TO_START_TLS = Reply.of(220, "2.0.0", "Ready to start TLS");
  private static final Reply SEND_HELO_FIRST = Reply.of(503, "5.5.1", "Error: send HELO/EHLO first");
  private static final Reply NESTED_MAIL = Reply.of(503, "5.5.1", "Error: nested MAIL command");
  private static final Reply NEED_MAIL = Reply.of(503, "5.5.1", "Error: need MAIL command");
  private static final Reply NEED_RCPT = Reply.of(503, "5.5.1", "Error: need RCPT command");
  // Pipelining sends DATA before it knows that every RCPT failed: not a sequence error.
  private static final Reply NO_VALID_RECIPIENTS = Reply.of(554, "5.5.1", "Error: no valid recipients");
  private static final Reply BAD_SIZE = Reply.of(501, "5.5.4", "Bad message size syntax");
  private static final Reply BAD_ENVID = Reply.of(501, "5.5.4", "Bad ENVID parameter syntax");
  private static final Reply BAD_NOTIFY = Reply.of(501, "5.5.4", "Error: Bad NOTIFY parameter syntax");
  private static final Reply BAD_ORCPT = Reply.of(501, "5.5.4", "Error: Bad ORCPT parameter syntax");
  private static final Reply SIZE_EXCEEDS_LIMIT = Reply.of(552, "5.3.4", "Message size exceeds fixed limit");
  private static final Reply TOO_MANY_RECIPIENTS = Reply.of(452, "4.5.3", "Error: too many recipients");
  private static final Reply MESSAGE_TOO_BIG = Reply.of(552, "5.3.4", "Error: message file too big");
  // Postfix folds long lines instead; we refuse them, since RFC 5322 §2.1.1 makes 998 a MUST
  // and a message that breaks it is one its recipients' software may also misread.
  private static final Reply CONTENT_LINE_TOO_LONG =
      Reply.of(554, "5.6.0", "Error: message content line longer than 998 octets");
  // Postfix truncates such a header instead; a header folded on past 100 KB is an attack or a
  // broken program, and refusing it keeps the message as sent or not at all.
  private static final Reply HEADER_TOO_BIG = Reply.of(552, "5.3.4", "Error: message header size exceeds header_size_limit");
  private static final Reply QUEUE_WRITE_ERROR = Reply.of(451, "4.3.0", "Error: queue file write error");
  private static final Reply NOT_IMPLEMENTED = Reply.of(502, "5.5.1", "Error: command not implemented");
  private static final Reply NOT_RECOGNIZED = Reply.of(500, "5.5.2", "Error: command not recognized");
  private static final Reply TLS_ALREADY_ACTIVE = Reply.of(554, "5.5.1", "Error: TLS already active");
  private static final Reply STARTTLS_FIRST = Reply.of(530, "5.7.0", "Must issue a STARTTLS command first");
  private static final Reply AUTH_REQUIRED = Reply.of(530, "5.7.0", "Authentication required");
  private static final Reply AUTH_OK = Reply.of(235, "2.7.0", "Authentication successful");
  private static final Reply AUTH_FAILED = Reply.of(535, "5.7.8", "Error: authentication failed");
  private static final Reply AUTH_BAD_MECHANISM =
      Reply.of(535, "5.7.8", "Error: authentication failed: Invalid authentication mechanism");
  private static final Reply AUTH_ABORTED = Reply.of(501, "5.7.0", "Authentication aborted");
  private static final Reply AUTH_SYNTAX = Reply.of(501, "5.5.4", "Syntax: AUTH mechanism");
  private static final Reply AUTH_UNDECODABLE = Reply.of(501, "5.5.2", "Cannot decode response");
  private static final Reply AUTH_NOT_ENABLED = Reply.of(503, "5.5.1", "Error: authentication not enabled");
  private static final Reply AUTH_TWICE = Reply.of(503, "5.5.1", "Error: already authenticated");
  private static final Reply AUTH_IN_TRANSACTION = Reply.of(503, "5.5.1", "Error: MAIL transaction in progress");
  private static final Reply AUTH_TEMPORARY = Reply.of(454, "4.7.0", "Temporary authentication failure");
  private static final Reply PROTOCOL_ERROR = Reply.of(521, "5.5.1", "Protocol error");
  private static final Reply NOT_SMTP = Reply.of(221, "2.7.0", "Error: I can break rules, too. Goodbye.");

  private final SmtpdSettings settings;
  private final ClientInfo client;
  private final SmtpChecks checks;
  private final Security security;
  /** The client's limits, or {@link ClientLimits#NONE} when it is exempt from them. */
  private final ClientLimits limits;
  private final AnvilClient anvil;

  private Phase phase = IDLE;
  private String heloName;
  private String protocol = "SMTP";
  private boolean tlsActive;
  private int errorCount;
  /** The session stage for log lines, in Postfix's words: {@code CONNECT}, {@code RCPT}. */
  private String where = "CONNECT";
  /** The client sent commands ahead of our replies where it may not (reject_unauth_pipelining). */
  private boolean improperPipelining;
  /** Set when the client restrictions refused the connection: every command gets 503. */
  private Reply accessDenied;
  /** What the connect and HELO stages left for each transaction (smtpd_delay_reject = no). */
  private Verdict connectVerdict = Verdict.DUNNO;
  private Verdict heloVerdict = Verdict.DUNNO;
  /** The SASL mechanism and login name after a successful AUTH; else null. */
  private SmtpdState.SaslLogin sasl;
  /** The TLS session once its handshake is done; null before (or without) TLS. */
  private SmtpdState.TlsSession tls;
  /** RCPT commands of this client in anvil's interval, as of the last MAIL plus those since. */
  private int recipientRate;

  public SmtpServerProtocol(SmtpdSettings settings, ClientInfo client, SmtpChecks checks) {
    this(settings, client, checks, Security.NONE);
  }

  public SmtpServerProtocol(SmtpdSettings settings, ClientInfo client, SmtpChecks checks, Security security) {
    this(settings, client, checks, security, ClientLimits.NONE, null);
  }

  /**
   * @param limits smtpd's per-client limits; a client in their exceptions is held to none
   * @param anvil where MAIL, RCPT and AUTH are counted; may be null when no limit is on
   */
  public SmtpServerProtocol(SmtpdSettings settings, ClientInfo client, SmtpChecks checks, Security security,
      ClientLimits limits, AnvilClient anvil) {
    this.settings = settings;
    this.client = client;
    this.checks = checks;
    this.security = security;
    this.limits = limits.exempt(client.address()) ? ClientLimits.NONE : limits;
    this.anvil = anvil;
    this.tlsActive = security.implicitTls();
  }

  /** Whether the session must report its connection to anvil before greeting. */
  public boolean countsConnection() {
    return limits.countsConnections();
  }

  /**
   * The connection limits, on anvil's count of this connection: null when within them, else
   * {@code 421 4.7.0} to send before hanging up (smtpd_client_connection_count_limit, then
   * smtpd_client_connection_rate_limit, in Postfix's words).
   */
  public Reply connectionLimit(Anvil.Connected counted) {
    String exceeded = limits.connectionCount() > 0 && counted.count() > limits.connectionCount()
        ? "Connection concurrency limit exceeded: " + counted.count()
        : limits.connectionRate() > 0 && counted.rate() > limits.connectionRate()
        ? "Connection rate limit exceeded: " + counted.rate() : null;
    if (exceeded == null) return null;
    log.warn("warning: {} from {} for service {}", exceeded, client, security.service());
    return Reply.of(421, "4.7.0", settings.myhostname() + " Error: too many connections from " + client.addressText());
  }

  /**
   * The client spoke before the greeting (postscreen's pregreet test): {@code PREGREET 11 after
   * 0.52 from [192.0.2.1]:4711: EHLO x\r\n} and {@code 521 5.5.1 Protocol error}, then hang up.
   *
   * @param octets how much it sent; @param sample its first octets; @param seconds how long after connect
   */
  public Reply pregreet(int octets, String sample, double seconds) {
    var shown = sample.replace("\r", "\\r").replace("\n", "\\n");
    log.info("PREGREET {} after {} from [{}]:{}: {}", octets, String.format(Locale.ROOT, "%.2f", seconds),
        client.addressText(), client.port(), printable(shown));
    return PROTOCOL_ERROR;
  }

  /** The user the client authenticated as (SMTP AUTH), or null. */
  public String authenticatedUser() {
    return sasl == null ? null : sasl.username();
  }

  /** The SASL mechanism of {@link #authenticatedUser()}, or null. */
  public String saslMethod() {
    return sasl == null ? null : sasl.method();
  }

  /** The TLS handshake is done: restrictions and policy servers see the session from now on. */
  public void tlsEstablished(SmtpdState.TlsSession session) {
    tls = session;
  }

  /** The TLS session (for the Received header), or null in plaintext. */
  public SmtpdState.TlsSession tls() {
    return tls;
  }

  /**
   * {@code 220 myhostname ESMTP mta}, or the refusal of the client restrictions when they are
   * evaluated at connect time and refuse.
   */
  public Reply greeting() {
    var verdict = checks.connect(state(null, null, null));
    if (verdict.reply() != null) {
      accessDenied = verdict.reply();
      errorCount++;
      logReject(verdict.reply(), null, null);
      return verdict.reply();
    }
    connectVerdict = verdict;
    return Reply.plain(220, settings.myhostname() + " ESMTP " + settings.softwareName());
  }

  /** One command line, without its CRLF, read alone. */
  public Step onCommand(String line) {
    return onCommand(line, false);
  }

  /**
   * One command line, without its CRLF.
   *
   * @param pipelined more input from the client was already waiting behind this line
   */
  public Step onCommand(String line, boolean pipelined) {
    if (phase instanceof Phase.Authenticating(var mechanism, var user)) return authResponse(mechanism, user, line);
    if (!(phase instanceof Phase.Idle || phase instanceof Phase.MailGiven)) {
      throw new IllegalStateException("command line while " + phase);
    }
    if (errorCount >= settings.hardErrorLimit()) return tooManyErrors();
    var parsed = SmtpCommand.parse(line, settings.strictRfc821Envelopes());
    var verb = switch (parsed) {
      case Parsed.SyntaxError(var v, var reply) -> v;
      case Parsed.Command(var command) -> command.name();
    };
    where = verb;
    if (parsed instanceof Parsed.Command(Unknown(var spelled)) && notSmtp(spelled)) return hangUpOnForeignProtocol(line);
    if (accessDenied != null && !verb.equals("QUIT")) {
      return reject(Reply.of(503, "5.7.0", "Error: access denied for " + client));
    }
    if (pipelined && !improperPipelining && (!protocol.equals("ESMTP") || lastInGroup(verb))) {
      improperPipelining = true;
      log.info("improper command pipelining after {} from {}", where, client);
    }
    var outOfSequence = outOfSequence(verb);
    if (outOfSequence != null) return reject(outOfSequence);
    return switch (parsed) {
      case Parsed.SyntaxError(var v, var reply) -> reject(reply);
      case Parsed.Command(var command) -> execute(command);
    };
  }

  /** How the DATA body ended. */
  public Step onData(DataResult result) {
    if (!(phase instanceof Phase.ReceivingData(var tx))) {
      throw new IllegalStateException("DATA body while " + phase);
    }
    where = "END-OF-MESSAGE";
    return switch (result) {
      case DataResult.Complete(var content) -> {
        var verdict = checks.endOfData(state(tx, tx.soleRecipient(), null));
        if (verdict.reply() != null) yield refuseMessage(tx, verdict.reply());
        var done = tx.with(verdict);
        phase = new Phase.Queuing(done);
        yield new Step.Enqueue(done.envelope(), content, heloName, receivedProtocol(), done.hold(), done.discard());
      }
      case DataResult.TooBig() -> refuseMessage(tx, MESSAGE_TOO_BIG);
      case DataResult.LineTooLong() -> refuseMessage(tx, CONTENT_LINE_TOO_LONG);
      case DataResult.HeaderTooBig() -> refuseMessage(tx, HEADER_TOO_BIG);
      case DataResult.BareLineEnding() -> {
        var reply = bareLineEnding();
        phase = IDLE;
        yield new Step.RespondAndClose(reply);
      }
    };
  }

  /** The message is durable under {@code queueId} (or was discarded, which looks the same). */
  public Reply onQueued(String queueId) {
    if (!(phase instanceof Phase.Queuing)) throw new IllegalStateException("queued while " + phase);
    phase = IDLE;
    errorCount = 0; // Postfix forgives a client its errors once it has delivered mail
    return Reply.of(250, "2.0.0", "Ok: queued as " + queueId);
  }

  /** The message could not be made durable; the client should try again later. */
  public Reply onQueueFailed(String why) {
    if (!(phase instanceof Phase.Queuing(var tx))) throw new IllegalStateException("queue failure while " + phase);
    phase = IDLE;
    errorCount++;
    log.warn("queue file write error after {} from {}: {}; from=<{}>", where, client, why, tx.sender());
    return QUEUE_WRITE_ERROR;
  }

  /**
   * Cleanup refused the message (header or body checks, an address it cannot rewrite now);
   * it has logged why. The reply goes to the client as it is.
   */
  public Reply onRefused(Reply reply) {
    if (!(phase instanceof Phase.Queuing)) throw new IllegalStateException("refusal while " + phase);
    phase = IDLE;
    errorCount++;
    return reply;
  }

  /** A command line over 1000 octets, already discarded by {@link CommandLineReader}. */
  public Reply lineTooLong() {
    errorCount++;
    return Reply.of(500, "5.5.2", settings.myhostname() + " Error: command too long");
  }

  /**
   * A bare LF in a command or bare CR/LF in the body: answer this and hang up (Postfix's
   * {@code smtpd_forbid_bare_newline = reject} with its default code, 550).
   */
  public Reply bareLineEnding() {
    var reply = Reply.of(550, "5.5.2", settings.myhostname() + " Error: bare <LF> received");
    logReject(reply, senderSoFar(), null);
    return reply;
  }

  /** The client said nothing for too long; the session closes after this. */
  public Reply timeout() {
    log.info("timeout after {} from {}", where, client);
    return Reply.of(421, "4.4.2", settings.myhostname() + " Error: timeout exceeded");
  }

  private Reply outOfSequence(String verb) {
    return switch (verb) {
      case "MAIL" -> settings.heloRequired() && heloName == null ? SEND_HELO_FIRST
          : security.tlsRequired() && !tlsActive ? STARTTLS_FIRST
          : security.authRequired() && sasl == null ? AUTH_REQUIRED
          : phase instanceof Phase.MailGiven ? NESTED_MAIL : null;
      case "AUTH" -> security.sasl() == null ? NOT_IMPLEMENTED
          : !authOffered() ? AUTH_NOT_ENABLED
          : sasl != null ? AUTH_TWICE
          : phase instanceof Phase.MailGiven ? AUTH_IN_TRANSACTION : null;
      case "RCPT" -> phase instanceof Phase.MailGiven ? null : NEED_MAIL;
      case "DATA" -> phase instanceof Phase.MailGiven(var tx)
          ? (tx.recipients().isEmpty() ? NO_VALID_RECIPIENTS : null)
          : NEED_RCPT;
      default -> null;
    };
  }

  /** Commands that end a PIPELINING group: nothing may follow them unanswered (RFC 2920). */
  private static boolean lastInGroup(String verb) {
    return switch (verb) {
      case "HELO", "EHLO", "DATA", "NOOP", "VRFY" -> true;
      default -> false;
    };
  }

  private Step execute(SmtpCommand command) {
    return switch (command) {
      case Helo(var name) -> hello(name, "SMTP", Reply.plain(250, settings.myhostname()));
      case Ehlo(var name) -> hello(name, "ESMTP", ehloReply());
      case Mail mail -> mail(mail);
      case Rcpt rcpt -> rcpt(rcpt);
      case Data() -> data();
      case Rset() -> {
        phase = IDLE;
        yield new Step.Respond(OK);
      }
      case Noop() -> new Step.Respond(OK);
      case Quit() -> new Step.RespondAndClose(BYE);
      // Never say whether a mailbox exists (address harvesting); 252 is "cannot verify, will try".
      case Vrfy(var argument) -> new Step.Respond(Reply.of(252, "2.0.0", printable(argument)));
      case Help() -> new Step.Respond(helpReply());
      case Starttls() -> startTls();
      case Auth(var args) -> auth(args);
      case Unknown u -> reject(NOT_RECOGNIZED);
    };
  }

  /** HELO and EHLO: RFC 5321 §4.1.4 makes either one an implicit RSET. */
  private Step hello(String name, String newProtocol, Reply reply) {
    var helo = printable(name);
    var state = new SmtpdState(where, client, helo, newProtocol, null, null, 0, sasl, tls,
        improperPipelining, 0, null, false, connectVerdict.deferIfPermit());
    var verdict = checks.helo(state);
    if (verdict.reply() != null) {
      log.info(state.logLine("reject", verdict.reply().oneLine()));
      return reject(verdict.reply());
    }
    heloName = helo;
    protocol = newProtocol;
    heloVerdict = verdict;
    phase = IDLE;
    return new Step.Respond(reply);
  }

  private Reply ehloReply() {
    var lines = new ArrayList<String>();
    lines.add(settings.myhostname());
    lines.add("PIPELINING");
    lines.add("SIZE " + settings.messageSizeLimit());
    lines.add("VRFY");
    if (settings.tlsAvailable() && !tlsActive) lines.add("STARTTLS");
    if (authOffered()) lines.add("AUTH PLAIN LOGIN");
    lines.add("ENHANCEDSTATUSCODES");
    lines.add("8BITMIME");
    lines.add("DSN");
    return new Reply(250, "", lines);
  }

  /** The implemented commands, sorted, as Postfix lists them (no software name or version). */
  private Reply helpReply() {
    var verbs = new TreeSet<>(List.of("DATA", "EHLO", "HELO", "HELP", "MAIL", "NOOP", "QUIT", "RCPT", "RSET", "VRFY"));
    if (settings.tlsAvailable()) verbs.add("STARTTLS");
    if (authOffered()) verbs.add("AUTH");
    return Reply.of(214, "2.0.0", "Commands: " + String.join(" ", verbs));
  }

  private Step mail(Mail mail) {
    if (limits.countsMail()) {
      var counted = anvil.mail(client.addressText());
      if (counted != null) {
        recipientRate = counted.recipients();
        if (limits.messageRate() > 0 && counted.messages() > limits.messageRate()) {
          log.warn("warning: Message delivery request rate limit exceeded: {} from {} for service {}",
              counted.messages(), client, security.service());
          return reject(Reply.of(450, "4.7.1", "Error: too much mail from " + client.addressText()));
        }
      }
    }
    long size = 0;
    Dsn.Ret ret = null;
    String envid = null;
    for (var param : mail.params().entrySet()) {
      var value = param.getValue();
      switch (param.getKey()) {
        case "BODY" -> {
          if (!value.equalsIgnoreCase("7BIT") && !value.equalsIgnoreCase("8BITMIME")) return unsupported(param);
        }
        case "SIZE" -> {
          if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) return reject(BAD_SIZE);
          size = parseSize(value);
        }
        case "RET" -> {
          if (!value.equalsIgnoreCase("FULL") && !value.equalsIgnoreCase("HDRS")) return unsupported(param);
          ret = Dsn.Ret.valueOf(value.toUpperCase(Locale.ROOT));
        }
        case "ENVID" -> {
          envid = xtext(value);
          if (envid == null || envid.length() > 100) return reject(BAD_ENVID);
        }
        default -> {
          return unsupported(param);
        }
      }
    }
    if (size > settings.messageSizeLimit()) {
      logReject(SIZE_EXCEEDS_LIMIT, mail.sender(), null);
      return reject(SIZE_EXCEEDS_LIMIT);
    }
    var instance = INSTANCE_PREFIX + "." + Long.toHexString(INSTANCES.incrementAndGet());
    var carried = heloVerdict.deferIfPermit() != null ? heloVerdict.deferIfPermit() : connectVerdict.deferIfPermit();
    var tx = new Transaction(mail.sender(), new Dsn.Mail(ret, envid), size, instance, List.of(), List.of(), 0,
        connectVerdict.hold() || heloVerdict.hold(), connectVerdict.discard() || heloVerdict.discard(), carried);
    var verdict = checks.mail(state(tx, null, carried));
    if (verdict.reply() != null) {
      logReject(verdict.reply(), mail.sender(), null);
      return reject(verdict.reply());
    }
    phase = new Phase.MailGiven(tx.with(verdict));
    return new Step.Respond(SENDER_OK);
  }

  /** Digits only; a number too long for a long is simply too big. */
  private static long parseSize(String digits) {
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  private Step rcpt(Rcpt rcpt) {
    if (limits.recipientRate() > 0) {
      anvil.rcpt(client.addressText());
      if (++recipientRate > limits.recipientRate()) {
        log.warn("warning: Recipient address rate limit exceeded: {} from {} for service {}",
            recipientRate, client, security.service());
        return reject(Reply.of(450, "4.7.1", "Error: too many recipients from " + client.addressText()));
      }
    }
    EnumSet<Dsn.Notify> notify = null;
    String orcpt = null;
    for (var param : rcpt.params().entrySet()) {
      switch (param.getKey()) {
        case "NOTIFY" -> {
          notify = notify(param.getValue());
          if (notify == null) return reject(BAD_NOTIFY);
        }
        case "ORCPT" -> {
          orcpt = orcpt(param.getValue());
          if (orcpt == null) return reject(BAD_ORCPT);
        }
        default -> {
          return unsupported(param);
        }
      }
    }
    var tx = ((Phase.MailGiven) phase).tx();
    if (tx.recipients().size() >= settings.recipientLimit()) {
      phase = new Phase.MailGiven(tx.overshot());
      return tx.overshoot() < settings.recipientOvershootLimit()
          ? new Step.Respond(TOO_MANY_RECIPIENTS)
          : reject(TOO_MANY_RECIPIENTS);
    }
    var verdict = checks.rcpt(state(tx, rcpt.recipient(), tx.deferIfPermit()));
    if (verdict.reply() != null) {
      logReject(verdict.reply(), tx.sender(), rcpt.recipient());
      return reject(verdict.reply());
    }
    phase = new Phase.MailGiven(tx.accept(rcpt.recipient(), new Dsn.Rcpt(notify, orcpt), verdict));
    return new Step.Respond(RECIPIENT_OK);
  }

  private Step data() {
    var tx = ((Phase.MailGiven) phase).tx();
    var verdict = checks.data(state(tx, tx.soleRecipient(), null));
    if (verdict.reply() != null) {
      logReject(verdict.reply(), tx.sender(), tx.soleRecipient());
      return reject(verdict.reply());
    }
    phase = new Phase.ReceivingData(tx.with(verdict));
    return new Step.StartData(START_DATA);
  }

  private Step unsupported(Map.Entry<String, String> param) {
    var option = param.getValue().isEmpty() ? param.getKey() : param.getKey() + "=" + param.getValue();
    return reject(Reply.of(555, "5.5.4", "Unsupported option: " + option));
  }

  /** {@code NOTIFY=NEVER} or a list of SUCCESS, FAILURE and DELAY; null when malformed. */
  private static EnumSet<Dsn.Notify> notify(String value) {
    if (value.equalsIgnoreCase("NEVER")) return EnumSet.noneOf(Dsn.Notify.class);
    var set = EnumSet.noneOf(Dsn.Notify.class);
    for (var word : value.split(",", -1)) {
      try {
        set.add(Dsn.Notify.valueOf(word.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    return set;
  }

  /** {@code ORCPT=addr-type;xtext}, decoded as {@code rfc822;user@example.com}; null when malformed. */
  private static String orcpt(String value) {
    int semicolon = value.indexOf(';');
    if (semicolon <= 0) return null;
    var type = value.substring(0, semicolon);
    var address = xtext(value.substring(semicolon + 1));
    if (!type.chars().allMatch(c -> c > ' ' && c < 0x7f && c != ';') || address == null || address.isEmpty()) return null;
    return type + ";" + address;
  }

  /** Decodes RFC 3461 xtext ({@code +2B} for {@code +}); null when it is not xtext. */
  private static String xtext(String value) {
    var out = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '+') {
        if (i + 2 >= value.length() || !HexFormat.isHexDigit(value.charAt(i + 1)) || !HexFormat.isHexDigit(value.charAt(i + 2))) {
          return null;
        }
        out.append((char) HexFormat.fromHexDigits(value, i + 1, i + 3));
        i += 2;
      } else if (c > ' ' && c < 0x7f && c != '=') {
        out.append(c);
      } else {
        return null;
      }
    }
    return out.toString();
  }

  private Step startTls() {
    if (!settings.tlsAvailable()) return reject(NOT_IMPLEMENTED);
    if (tlsActive) return reject(TLS_ALREADY_ACTIVE);
    // RFC 3207 §4.2: everything learnt before the handshake is forgotten.
    tlsActive = true;
    heloName = null;
    protocol = "SMTP";
    sasl = null;
    phase = IDLE;
    return new Step.StartTls(READY_TO_START_TLS);
  }

  private boolean authOffered() {
    return security.sasl() != null && (tlsActive || !security.authOnlyWithTls());
  }

  /** {@code AUTH PLAIN|LOGIN [initial-response]}; sequence is checked already. */
  private Step auth(String args) {
    var words = args.strip().split(" +", 2);
    var mechanism = words[0].toUpperCase(Locale.ROOT);
    if (mechanism.isEmpty()) return reject(AUTH_SYNTAX);
    if (!mechanism.equals("PLAIN") && !mechanism.equals("LOGIN")) return reject(AUTH_BAD_MECHANISM);
    if (limits.authRate() > 0) {
      int rate = anvil.auth(client.addressText());
      if (rate > limits.authRate()) {
        log.warn("warning: AUTH command rate limit exceeded: {} from {} for service {}", rate, client, security.service());
        return reject(Reply.of(450, "4.7.1", "Error: too many AUTH commands from " + client.addressText()));
      }
    }
    return words.length > 1 ? authResponse(mechanism, null, words[1]) : challenge(mechanism, null);
  }

  /** {@code 334} and wait: PLAIN asks for everything at once, LOGIN for "Username:", then "Password:". */
  private Step challenge(String mechanism, String user) {
    phase = new Phase.Authenticating(mechanism, user);
    var prompt = mechanism.equals("PLAIN") ? "" : user == null ? "Username:" : "Password:";
    return new Step.Respond(Reply.plain(334, Base64.getEncoder().encodeToString(prompt.getBytes(StandardCharsets.US_ASCII))));
  }

  /** A base64 answer ({@code =} for empty, {@code *} to give up). */
  private Step authResponse(String mechanism, String user, String line) {
    phase = IDLE;
    var answer = line.strip();
    if (answer.equals("*")) return reject(AUTH_ABORTED);
    String text;
    try {
      text = new String(answer.equals("=") ? new byte[0] : Base64.getDecoder().decode(answer), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return reject(AUTH_UNDECODABLE);
    }
    if (mechanism.equals("LOGIN")) return user == null ? challenge(mechanism, text) : verify(mechanism, user, text);
    // PLAIN (RFC 4616): authzid NUL authcid NUL passwd; acting for someone else is not allowed.
    var parts = text.split("\0", -1);
    boolean wellFormed = parts.length == 3 && (parts[0].isEmpty() || parts[0].equals(parts[1]));
    return wellFormed ? verify(mechanism, parts[1], parts[2]) : verify(mechanism, "", null);
  }

  private Step verify(String mechanism, String user, String password) {
    try {
      if (password != null && !user.isEmpty() && security.sasl().verify(user, password)) {
        sasl = new SmtpdState.SaslLogin(mechanism, printable(user));
        return new Step.Respond(AUTH_OK);
      }
    } catch (LookupFailure e) {
      log.warn("warning: {}: SASL {} authentication: {}", client, mechanism, e.getMessage());
      return reject(AUTH_TEMPORARY);
    }
    log.warn("warning: {}: SASL {} authentication failed, sasl_username={}", client, mechanism, printable(user));
    return reject(AUTH_FAILED);
  }

  /** The protocol for the Received header: RFC 3848 adds S for TLS and A for AUTH to ESMTP. */
  private String receivedProtocol() {
    if (!protocol.equals("ESMTP")) return protocol;
    return protocol + (tlsActive ? "S" : "") + (sasl != null ? "A" : "");
  }

  private Step refuseMessage(Transaction tx, Reply reply) {
    logReject(reply, tx.sender(), tx.soleRecipient());
    phase = IDLE;
    return reject(reply);
  }

  /**
   * Postfix's {@code smtpd_forbid_cmds} ({@code CONNECT GET POST}, and anything not starting with
   * a letter, such as a TLS hello on the plaintext port) and its test for a header label
   * ({@code Subject:}): the peer is not speaking SMTP to us, or is sending its message as
   * commands after a refused DATA. Hang up instead of collecting twenty errors.
   */
  private static boolean notSmtp(String verb) {
    char first = verb.charAt(0);
    return verb.equalsIgnoreCase("CONNECT") || verb.equalsIgnoreCase("GET") || verb.equalsIgnoreCase("POST")
        || !((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z'))
        || verb.indexOf(':') > 0;
  }

  private Step hangUpOnForeignProtocol(String line) {
    log.warn("non-SMTP command from {}: {}", client, printable(line.length() > 100 ? line.substring(0, 100) : line));
    return new Step.RespondAndClose(NOT_SMTP);
  }

  /** Client text bound for logs and headers, with control characters made harmless, as Postfix does. */
  private static String printable(String text) {
    return text.codePoints()
        .map(c -> c < ' ' || c == 0x7f ? '?' : c)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
        .toString();
  }

  /** Counts the error; the one that reaches the limit ends the session instead. */
  private Step reject(Reply reply) {
    errorCount++;
    return errorCount >= settings.hardErrorLimit() ? tooManyErrors() : new Step.Respond(reply);
  }

  private Step tooManyErrors() {
    log.info("too many errors after {} from {}", where, client);
    return new Step.RespondAndClose(Reply.of(421, "4.7.0", settings.myhostname() + " Error: too many errors"));
  }

  /** The session as the restrictions see it now. */
  private SmtpdState state(Transaction tx, MailAddress recipient, Reply deferIfPermit) {
    return new SmtpdState(where, client, heloName, protocol, tx == null ? null : tx.sender(), recipient,
        tx == null ? 0 : tx.recipients().size(), sasl, tls, improperPipelining, tx == null ? 0 : tx.size(),
        tx == null ? null : tx.instance(), tx != null && tx.discard(), deferIfPermit);
  }

  private MailAddress senderSoFar() {
    return switch (phase) {
      case Phase.MailGiven(var tx) -> tx.sender();
      case Phase.ReceivingData(var tx) -> tx.sender();
      case Phase.Queuing(var tx) -> tx.sender();
      case Phase.Idle() -> null;
      case Phase.Authenticating a -> null;
    };
  }

  /**
   * {@code NOQUEUE: reject: RCPT from host[ip]: 554 5.7.1 <x@y>: Relay access denied;
   * from=<a@b> to=<x@y> proto=ESMTP helo=<h>}, Postfix's line, which log tools already parse.
   */
  private void logReject(Reply reply, MailAddress sender, MailAddress recipient) {
    if (!log.isInfoEnabled()) return;
    log.info(new SmtpdState(where, client, heloName, protocol, sender, recipient, 0, null, null, false, 0, null, false, null)
        .logLine("reject", reply.oneLine()));
  }
}

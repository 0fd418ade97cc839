package mta.delivery;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import mta.mail.MailAddress;
import mta.mail.Reply;

/**
 * The client side of one outbound SMTP session, after Postfix's {@code smtp_proto.c}, without
 * sockets: the connection actor reports what happened ({@link #onConnected}, {@link #onLine}
 * or {@link #onReply}, {@link #onDisconnected}) or what it wants ({@link #send}, {@link #quit})
 * and gets back the one thing to do {@link Next}. A session lives as long as its connection and
 * carries any number of transactions to the same next hop (connection reuse).
 *
 * <h2>Conversation</h2>
 * Greeting 2xx, then {@code EHLO}; an EHLO 5xx falls back to {@code HELO} (no extensions).
 * Each transaction sends {@code MAIL FROM} (with {@code SIZE=} and {@code BODY=8BITMIME} where
 * the server offers them), one {@code RCPT TO} per recipient and {@code DATA}: all in one write
 * when the server offers PIPELINING (RFC 2920), else one command per round trip. After 354 the
 * content goes out dot-stuffed ({@link DotStuffing}).
 *
 * <h2>Error policy</h2>
 * <ul>
 *   <li>MAIL rejected: every recipient gets the MAIL reply. RCPT rejected: that recipient keeps
 *       its RCPT reply. DATA or end-of-data rejected: every recipient accepted at RCPT gets it.
 *   <li>If no recipient is left after RCPT, no content is sent (a pipelined DATA's error reply
 *       is expected and ignored) and {@code RSET} leaves the session clean for the next
 *       transaction; so does any other failure before the content went out.
 *   <li>A message larger than the server's SIZE limit is not offered: every recipient gets a
 *       local 552 5.3.4 reply and the session stays idle.
 *   <li>421 at any point, a failed greeting, EHLO/HELO or RSET, a malformed or out-of-place
 *       reply, or a lost connection end the session: {@link Next.SessionFailed} gives the stage
 *       and the reason, and final results for the transaction in flight, if any (recipients not
 *       yet decided get that reason). The actor then closes the connection.
 *   <li>Replies that are neither 2xx where success is expected nor 4xx/5xx are protocol errors,
 *       reported as a local 451 4.5.0, so a result is always delivered, deferred or bounced.
 * </ul>
 *
 * <h2>STARTTLS (RFC 3207)</h2>
 * With a TLS level other than {@code none} (the destination's policy, {@link SmtpTlsPolicy}),
 * an EHLO that offers STARTTLS is followed by {@code STARTTLS}; its 220 gives
 * {@link Next.StartTls}, the actor adds TLS and reports {@link #onTlsEstablished}, and EHLO goes
 * again. Under {@code may} a refused STARTTLS or a server without it leaves the session in
 * plaintext (a failed handshake is the actor's: it reconnects without TLS); under
 * {@code encrypt}, {@code verify} and {@code secure} either ends the session, so the mail is
 * deferred. Certificate checks are the actor's too: the protocol sees only the outcome.
 *
 * <h2>AUTH (RFC 4954), after Postfix's {@code smtp_sasl_proto.c}</h2>
 * With a {@link SaslLogin} (from {@code smtp_sasl_password_maps}) and a server that offers AUTH
 * in its EHLO (after TLS, if TLS is on), the session authenticates before it is ready:
 * {@code AUTH PLAIN} with the initial response, else {@code AUTH LOGIN} answering the two 334
 * challenges. Only mechanisms the security options allow for this session are used:
 * {@code noplaintext} (the default without TLS) forbids both, so no password goes over a
 * plaintext connection; the server offering AUTH with no usable mechanism ends the session
 * ({@link Next.AuthFailed}, local). A server that offers no AUTH gets the mail without it,
 * as with Postfix. Any reply other than 334 or 235 during AUTH ends the session with
 * {@link Next.AuthFailed} carrying the server's reply; whether that defers or bounces is the
 * actor's ({@code smtp_sasl_auth_soft_bounce}).
 */
public final class SmtpClientProtocol {

  /** One message for some recipients at this next hop; content is CRLF text. */
  public record Transaction(MailAddress sender, List<MailAddress> recipients, byte[] content) {
    public Transaction {
      Objects.requireNonNull(sender);
      Objects.requireNonNull(content);
      recipients = List.copyOf(recipients);
      if (recipients.isEmpty()) throw new IllegalArgumentException("a transaction needs a recipient");
    }
  }

  /** The outcome for one recipient: the server's reply or one generated locally. */
  public record RecipientResult(MailAddress recipient, Reply reply) {
    public boolean delivered() { return reply.code() / 100 == 2; }
    public boolean deferred() { return reply.code() / 100 == 4; }
    public boolean bounced() { return reply.code() / 100 == 5; }
  }

  /** The ESMTP extensions from the EHLO reply; {@link #NONE} after HELO. */
  public record Capabilities(boolean pipelining, boolean size, long sizeLimit, boolean eightBitMime,
      boolean enhancedStatusCodes, boolean startTls, Set<String> authMechanisms, boolean dsn) {

    public static final Capabilities NONE =
        new Capabilities(false, false, 0, false, false, false, Set.of(), false);

    public Capabilities {
      authMechanisms = Set.copyOf(authMechanisms);
    }

    /**
     * Reads the keyword lines after the first (the server's name). {@code SIZE} without a
     * number, or 0, announces no limit (RFC 1870). Both {@code AUTH PLAIN} and the old
     * {@code AUTH=PLAIN} form are understood, as in Postfix.
     */
    public static Capabilities fromEhlo(Reply ehlo) {
      boolean pipelining = false, size = false, eightBitMime = false, enhanced = false,
          startTls = false, dsn = false;
      long sizeLimit = 0;
      var auth = new TreeSet<String>();
      for (var line : ehlo.lines().subList(1, ehlo.lines().size())) {
        var words = line.trim().toUpperCase(Locale.ROOT).split("[ =]+");
        switch (words[0]) {
          case "PIPELINING" -> pipelining = true;
          case "SIZE" -> {
            size = true;
            sizeLimit = words.length > 1 && words[1].matches("\\d{1,18}") ? Long.parseLong(words[1]) : 0;
          }
          case "8BITMIME" -> eightBitMime = true;
          case "ENHANCEDSTATUSCODES" -> enhanced = true;
          case "STARTTLS" -> startTls = true;
          case "AUTH" -> auth.addAll(Arrays.asList(words).subList(1, words.length));
          case "DSN" -> dsn = true;
          default -> { }
        }
      }
      return new Capabilities(pipelining, size, sizeLimit, eightBitMime, enhanced, startTls, auth, dsn);
    }
  }

  /** {@code smtp_tls_security_level} and the levels of {@code smtp_tls_policy_maps}. */
  public enum TlsLevel {
    NONE, MAY, ENCRYPT, VERIFY, SECURE;

    /** No TLS, no mail: every level above {@code may}. */
    public boolean mandatory() { return compareTo(ENCRYPT) >= 0; }

    /** The server's certificate chain and name are checked. */
    public boolean verified() { return compareTo(VERIFY) >= 0; }
  }

  /**
   * Client SASL credentials for one next hop, and the mechanisms ({@code PLAIN}, {@code LOGIN})
   * the security options allow in a plaintext session and in a TLS session.
   */
  public record SaslLogin(String username, String password, Set<String> plaintextMechanisms, Set<String> tlsMechanisms) {
    public SaslLogin {
      plaintextMechanisms = Set.copyOf(plaintextMechanisms);
      tlsMechanisms = Set.copyOf(tlsMechanisms);
    }

    @Override
    public String toString() {
      return "SaslLogin[" + username + ", password hidden]";
    }
  }

  /** Where the session is: what the next reply answers. {@code activity} goes into error text. */
  public enum Stage {
    CONNECT("connecting"),
    GREETING("receiving the initial server greeting"),
    EHLO("performing the EHLO handshake"),
    HELO("performing the HELO handshake"),
    STARTTLS("sending STARTTLS"),
    AUTH("performing the AUTH handshake"),
    READY("idle"),
    MAIL("sending MAIL FROM"),
    RCPT("sending RCPT TO"),
    DATA("sending DATA command"),
    CONTENT("sending end of data -- message may be sent more than once"),
    RSET("sending RSET"),
    QUIT("sending QUIT"),
    CLOSED("closed");

    private final String activity;

    Stage(String activity) { this.activity = activity; }
  }

  /** What the connection actor does next. */
  public sealed interface Next {
    /** Nothing to write; wait for the server's next reply line. */
    record Await() implements Next { }

    /** Write these bytes, then wait for the server's next reply line. */
    record Write(byte[] bytes) implements Next { }

    /** The server said 220 to STARTTLS: start TLS, then call {@link #onTlsEstablished}. */
    record StartTls() implements Next { }

    /** The session is established and idle: it can take a {@link Transaction}. */
    record Ready(Capabilities capabilities) implements Next { }

    /** The transaction is over, a result per recipient in order; the session is idle again. */
    record TransactionDone(List<RecipientResult> results) implements Next { }

    /**
     * The session is over: close the connection. {@code results} settles the transaction in
     * flight, if any (empty otherwise); {@code reason} is the server's reply or a local one.
     */
    record SessionFailed(Stage stage, Reply reason, List<RecipientResult> results) implements Next { }

    /** The session ended in good order (QUIT, or the server hung up while idle). */
    record Closed() implements Next { }

    /**
     * AUTH failed and the session is over: close the connection. {@code serverSaid}: the
     * reply is the server's answer to AUTH; otherwise it is local (no usable mechanism).
     */
    record AuthFailed(String mechanism, Reply reason, boolean serverSaid) implements Next { }
  }

  private static final Next AWAIT = new Next.Await();

  /** Local: mandatory TLS and a server without STARTTLS. */
  static final Reply TLS_NOT_OFFERED = Reply.of(450, "4.7.4", "TLS is required, but was not offered");
  private static final Reply NO_MECHANISM = Reply.of(450, "4.7.0", "no mechanism available");
  /** Preference order: PLAIN takes one round trip, LOGIN three. */
  private static final List<String> MECHANISMS = List.of("PLAIN", "LOGIN");

  private final String myhostname;
  private final TlsLevel tls;
  private final SaslLogin sasl;
  private boolean tlsActive;
  /** The AUTH mechanism in use, once chosen; LOGIN counts the 334 challenges answered. */
  private String saslMechanism;
  private int loginChallenges;
  private boolean authenticated;
  private final ReplyReader replyReader = new ReplyReader();
  private Stage stage = Stage.CONNECT;
  private Capabilities capabilities = Capabilities.NONE;
  private Transaction transaction;
  /** Per recipient of the transaction in flight; null while undecided (accepted at RCPT or not asked yet). */
  private Reply[] results;
  private int rcptReplies;

  public SmtpClientProtocol(String myhostname) {
    this(myhostname, TlsLevel.NONE);
  }

  public SmtpClientProtocol(String myhostname, TlsLevel tls) {
    this(myhostname, tls, null);
  }

  /** @param sasl credentials for AUTH, or null: no AUTH */
  public SmtpClientProtocol(String myhostname, TlsLevel tls, SaslLogin sasl) {
    this.myhostname = myhostname;
    this.tls = tls;
    this.sasl = sasl;
  }

  public boolean tlsActive() { return tlsActive; }

  /** What the server offered in its last EHLO (after TLS, if TLS is on). */
  public Capabilities capabilities() { return capabilities; }

  /** The mechanism the session authenticated with, or null. */
  public String authenticatedWith() { return authenticated ? saslMechanism : null; }

  /** The TLS handshake after STARTTLS succeeded: start over with EHLO (RFC 3207 §4.2). */
  public Next onTlsEstablished() {
    require(Stage.STARTTLS, "TLS established");
    tlsActive = true;
    capabilities = Capabilities.NONE;
    return ehlo();
  }

  public Stage stage() { return stage; }

  /** The TCP connection is up: wait for the greeting. */
  public Next onConnected() {
    require(Stage.CONNECT, "connected");
    stage = Stage.GREETING;
    return AWAIT;
  }

  /** One line from the server, without CRLF. */
  public Next onLine(String line) {
    try {
      return replyReader.accept(line).map(this::onReply).orElse(AWAIT);
    } catch (ReplyReader.MalformedReplyException e) {
      return protocolError(e.getMessage());
    }
  }

  /** One complete reply from the server. */
  public Next onReply(Reply reply) {
    if (stage == Stage.CLOSED || stage == Stage.CONNECT) {
      throw new IllegalStateException("reply while " + stage.activity + ": " + reply.oneLine());
    }
    if (stage == Stage.QUIT) return close();
    // The server is shutting the connection down, whatever we were waiting for (RFC 5321 §3.8).
    if (reply.code() == 421) return fail(reply);
    return switch (stage) {
      case GREETING -> isOk(reply) ? ehlo() : fail(reply);
      case EHLO -> isOk(reply) ? secure(Capabilities.fromEhlo(reply))
          : reply.code() / 100 == 5 ? helo() : fail(reply);
      case HELO -> isOk(reply) ? secure(Capabilities.NONE) : fail(reply);
      case STARTTLS -> isOk(reply) ? new Next.StartTls() : tls.mandatory() ? fail(reply) : authenticate(capabilities);
      case AUTH -> onAuthReply(reply);
      case MAIL -> onMailReply(reply);
      case RCPT -> onRcptReply(reply);
      case DATA -> onDataReply(reply);
      case CONTENT -> onEndOfDataReply(reply);
      case RSET -> isOk(reply) ? transactionDone() : fail(reply);
      // Only READY is left: the server spoke without being asked.
      default -> protocolError("unsolicited reply: " + reply.oneLine());
    };
  }

  /** Starts a mail transaction on an idle session. */
  public Next send(Transaction t) {
    require(Stage.READY, "send");
    long size = t.content().length;
    if (capabilities.size() && capabilities.sizeLimit() > 0 && size > capabilities.sizeLimit()) {
      var tooBig = Reply.of(552, "5.3.4",
          "message size " + size + " exceeds size limit " + capabilities.sizeLimit() + " of server");
      return new Next.TransactionDone(t.recipients().stream().map(r -> new RecipientResult(r, tooBig)).toList());
    }
    transaction = t;
    results = new Reply[t.recipients().size()];
    rcptReplies = 0;
    stage = Stage.MAIL;
    if (!capabilities.pipelining()) return write(mailFrom());
    var pipeline = new StringBuilder(mailFrom()).append("\r\n");
    t.recipients().forEach(r -> pipeline.append(rcptTo(r)).append("\r\n"));
    return write(pipeline.append("DATA").toString());
  }

  /** Ends an idle session; {@link Next.Closed} follows the server's reply (or its hang-up). */
  public Next quit() {
    require(Stage.READY, "quit");
    stage = Stage.QUIT;
    return write("QUIT");
  }

  /** The connection is gone. Only while idle or quitting is that not a failure. */
  public Next onDisconnected() {
    return switch (stage) {
      case READY, QUIT, CLOSED -> close();
      default -> fail(Reply.of(451, "4.4.2", "lost connection while " + stage.activity));
    };
  }

  private Next ehlo() {
    stage = Stage.EHLO;
    return write("EHLO " + myhostname);
  }

  private Next helo() {
    stage = Stage.HELO;
    return write("HELO " + myhostname);
  }

  /** After EHLO or HELO: STARTTLS first when it is wanted and offered. */
  private Next secure(Capabilities offered) {
    if (tlsActive || tls == TlsLevel.NONE) return authenticate(offered);
    if (!offered.startTls()) return tls.mandatory() ? fail(TLS_NOT_OFFERED) : authenticate(offered);
    capabilities = offered;
    stage = Stage.STARTTLS;
    return write("STARTTLS");
  }

  /** After TLS (or without it): AUTH when we have credentials and the server offers it. */
  private Next authenticate(Capabilities offered) {
    if (sasl == null || authenticated || offered.authMechanisms().isEmpty()) return ready(offered);
    capabilities = offered;
    stage = Stage.AUTH;
    var allowed = tlsActive ? sasl.tlsMechanisms() : sasl.plaintextMechanisms();
    saslMechanism = MECHANISMS.stream()
        .filter(m -> allowed.contains(m) && offered.authMechanisms().contains(m)).findFirst().orElse(null);
    if (saslMechanism == null) return authFailed(NO_MECHANISM, false);
    if (saslMechanism.equals("LOGIN")) return write("AUTH LOGIN");
    var initial = "\0" + sasl.username() + "\0" + sasl.password();
    return write("AUTH PLAIN " + base64(initial));
  }

  /** 235: authenticated; 334: LOGIN asks for the user name, then the password; anything else fails. */
  private Next onAuthReply(Reply reply) {
    if (isOk(reply)) {
      authenticated = true;
      return ready(capabilities);
    }
    if (reply.code() == 334 && saslMechanism.equals("LOGIN") && loginChallenges < 2) {
      return write(base64(loginChallenges++ == 0 ? sasl.username() : sasl.password()));
    }
    if (reply.code() == 334) return protocolError("unexpected AUTH challenge " + reply.oneLine());
    return authFailed(reply, true);
  }

  private Next authFailed(Reply reason, boolean serverSaid) {
    stage = Stage.CLOSED;
    return new Next.AuthFailed(saslMechanism, reason, serverSaid);
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(UTF_8));
  }

  private Next ready(Capabilities offered) {
    capabilities = offered;
    stage = Stage.READY;
    return new Next.Ready(offered);
  }

  private Next onMailReply(Reply reply) {
    if (!isOk(reply)) decideUndecided(failure(reply));
    stage = Stage.RCPT;
    if (capabilities.pipelining()) return AWAIT;
    return isOk(reply) ? write(rcptTo(transaction.recipients().getFirst())) : rset();
  }

  private Next onRcptReply(Reply reply) {
    int i = rcptReplies++;
    // After a rejected MAIL the recipient is already decided; its pipelined RCPT reply is noise.
    if (results[i] == null && !isOk(reply)) results[i] = failure(reply);
    boolean more = rcptReplies < results.length;
    if (!more) stage = Stage.DATA;
    if (capabilities.pipelining()) return AWAIT;
    if (more) return write(rcptTo(transaction.recipients().get(rcptReplies)));
    return anyUndecided() ? write("DATA") : rset();
  }

  private Next onDataReply(Reply reply) {
    if (!anyUndecided()) {
      // Only a pipelined DATA gets here; RFC 2920 says the server must refuse it.
      return reply.code() == 354 ? protocolError("354 reply to DATA without recipients") : rset();
    }
    if (reply.code() != 354) {
      decideUndecided(failure(reply));
      return rset();
    }
    stage = Stage.CONTENT;
    return new Next.Write(DotStuffing.encode(transaction.content()));
  }

  private Next onEndOfDataReply(Reply reply) {
    decideUndecided(isOk(reply) ? reply : failure(reply));
    return transactionDone();
  }

  private Next rset() {
    stage = Stage.RSET;
    return write("RSET");
  }

  private Next transactionDone() {
    var done = new Next.TransactionDone(recipientResults());
    transaction = null;
    stage = Stage.READY;
    return done;
  }

  private Next protocolError(String why) {
    return fail(Reply.of(451, "4.5.0", "protocol error while " + stage.activity + ": " + why));
  }

  private Next fail(Reply reply) {
    var reason = failure(reply);
    var failedAt = stage;
    List<RecipientResult> inFlight = List.of();
    if (transaction != null) {
      decideUndecided(reason);
      inFlight = recipientResults();
      transaction = null;
    }
    stage = Stage.CLOSED;
    return new Next.SessionFailed(failedAt, reason, inFlight);
  }

  private Next close() {
    stage = Stage.CLOSED;
    return new Next.Closed();
  }

  /** A reply as a failure: 4xx/5xx as is, anything else is the server being out of step. */
  private Reply failure(Reply reply) {
    int cls = reply.code() / 100;
    if (cls == 4 || cls == 5) return reply;
    return Reply.of(451, "4.5.0",
        "protocol error while " + stage.activity + ": unexpected reply " + reply.oneLine());
  }

  private String mailFrom() {
    var command = new StringBuilder("MAIL FROM:<").append(transaction.sender()).append('>');
    if (capabilities.size()) command.append(" SIZE=").append(transaction.content().length);
    if (capabilities.eightBitMime() && hasEightBit(transaction.content())) command.append(" BODY=8BITMIME");
    return command.toString();
  }

  private static String rcptTo(MailAddress recipient) {
    return "RCPT TO:<" + recipient + ">";
  }

  private static boolean hasEightBit(byte[] content) {
    for (byte b : content) if (b < 0) return true;
    return false;
  }

  private boolean anyUndecided() {
    return Arrays.stream(results).anyMatch(Objects::isNull);
  }

  private void decideUndecided(Reply reply) {
    for (int i = 0; i < results.length; i++) if (results[i] == null) results[i] = reply;
  }

  private List<RecipientResult> recipientResults() {
    var recipients = transaction.recipients();
    return IntStream.range(0, results.length).mapToObj(i -> new RecipientResult(recipients.get(i), results[i])).toList();
  }

  private static boolean isOk(Reply reply) { return reply.code() / 100 == 2; }

  private static Next write(String commands) {
    return new Next.Write((commands + "\r\n").getBytes(UTF_8));
  }

  private void require(Stage expected, String event) {
    if (stage != expected) throw new IllegalStateException(event + " while " + stage.activity);
  }
}

package mta.delivery;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.TreeSet;
import mta.config.HostPort;
import mta.config.MtaConfig;
import mta.delivery.SmtpClientProtocol.Next;
import mta.mail.Reply;
import mta.net.EventLoops;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One outbound SMTP connection (Postfix's smtp process for one session): it connects, drives
 * {@link SmtpClientProtocol}, runs one delivery job at a time and, between jobs, waits idle
 * in the agent's connection cache, which reuses it for the next job to the same destination
 * or tells it to quit when {@code smtp_connection_cache_time_limit} is up. Netty moves the
 * bytes; this actor holds the session.
 *
 * <p>TLS ({@link SmtpTlsPolicy}): when the protocol asks for it, TLS goes first in the
 * pipeline. A failed handshake under {@code may} reconnects to the same host in plaintext;
 * under {@code encrypt}, {@code verify} and {@code secure} the job is deferred (4.7.5), as it
 * is when a verified level finds none of the expected names in the server's certificate (the
 * chain itself is checked in the handshake). Events carry their channel, so that the
 * abandoned connection's are ignored.
 *
 * <p>SASL ({@link SmtpSasl}): the protocol authenticates; this actor logs the outcome with
 * {@code sasl_method} and {@code sasl_username} and turns a refusal into a deferral (or, without
 * {@code smtp_sasl_auth_soft_bounce}, a bounce for a 5xx).
 */
final class SmtpConnection extends AbstractBehavior<SmtpConnection.Command> {
  private static final Logger log = LoggerFactory.getLogger("smtp");
  /** Postfix's code for a site that could not be talked to. */
  private static final String SESSION_DSN = "4.4.1";
  /** Postfix's code for a TLS handshake or certificate failure under mandatory TLS. */
  private static final String TLS_DSN = "4.7.5";

  sealed interface Command {}

  /** From the agent: deliver this job on this connection. */
  record Run(DeliveryAgent.Job job) implements Command {}

  private record Connected(Channel channel, InetSocketAddress remote) implements Command {}

  private record ConnectFailed(String reason) implements Command {}

  private record Line(Channel channel, String text) implements Command {}

  private record Disconnected(Channel channel) implements Command {}

  /** {@code peer}: the server's certificate, or null when it sent none. */
  private record TlsEstablished(String description, X509Certificate peer) implements Command {}

  private record TlsFailed(String reason) implements Command {}

  private record TimedOut() implements Command {}

  private record Closed() implements Command {}

  /** From the agent: the connection has been idle long enough (or the node leaves): QUIT and close. */
  record Quit() implements Command {}

  /** How to talk to one host: its TLS session settings, the SASL login (or null) and the cache key the agent keeps it under. */
  record Security(SmtpTlsPolicy.Session tls, SmtpClientProtocol.SaslLogin login, SmtpSasl sasl, DeliveryAgent.ConnectionKey key) {}

  static Behavior<Command> create(
      DeliveryAgent.Target target, String myhostname, EventLoops loop, MtaConfig.SmtpClientSettings settings,
      Security security, ActorRef<DeliveryAgent.Command> agent, DeliveryAgent.Job first) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SmtpConnection(ctx, timers, target, myhostname, loop, settings, security, agent, first)));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final HostPort target;
  /** The host's name as the MX list or the next hop gave it: {@code name[ip]:port} in the log. */
  private final String name;
  private final MtaConfig.SmtpClientSettings settings;
  private final Security security;
  private final SmtpClientProtocol.TlsLevel level;
  private final String myhostname;
  private final EventLoops loop;
  private final ActorRef<DeliveryAgent.Command> agent;
  private SmtpClientProtocol protocol;
  private Channel channel;
  /** {@code host[ip]:port}, as Postfix names a relay in its log. */
  private String relay;
  private DeliveryAgent.Job job;
  private boolean authLogged;

  private SmtpConnection(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, DeliveryAgent.Target target, String myhostname,
      EventLoops loop, MtaConfig.SmtpClientSettings settings, Security security, ActorRef<DeliveryAgent.Command> agent,
      DeliveryAgent.Job first) {
    super(ctx);
    this.ctx = ctx;
    this.timers = timers;
    this.target = target.address();
    this.name = target.name();
    this.settings = settings;
    this.security = security;
    this.level = security.tls().policy().level();
    this.myhostname = myhostname;
    this.loop = loop;
    this.agent = agent;
    this.protocol = new SmtpClientProtocol(myhostname, level, security.login());
    this.job = first;
    this.relay = name + "[" + this.target.host() + "]:" + this.target.port();
    connect();
  }

  private void connect() {
    var self = ctx.getSelf();
    var bootstrap = new Bootstrap().group(loop.group()).channel(loop.channel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new LineBasedFrameDecoder(8192), new ReplyLines(self));
          }
        });
    // Connected comes from channelActive (ReplyLines), on the event loop before any line is read;
    // a listener added here may run after the greeting has been read already.
    bootstrap.connect(target.host(), target.port()).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) self.tell(new ConnectFailed(f.cause() == null ? "connection failed" : rootMessage(f.cause())));
    });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Connected.class, this::onConnected)
        .onMessage(ConnectFailed.class, c -> failJob(SESSION_DSN, "connect to " + relay + ": " + c.reason(), null))
        .onMessage(Line.class, l -> l.channel() == channel ? act(protocol.onLine(l.text())) : this)
        .onMessage(Disconnected.class, d -> d.channel() == channel ? act(protocol.onDisconnected()) : this)
        .onMessage(TlsEstablished.class, this::onTlsEstablished)
        .onMessage(TlsFailed.class, this::onTlsFailed)
        .onMessage(Run.class, this::onRun)
        .onMessage(TimedOut.class, t -> failJob(SESSION_DSN, "conversation with " + relay + " timed out while " + protocol.stage().name().toLowerCase(), null))
        .onMessage(Quit.class, q -> protocol.stage() == SmtpClientProtocol.Stage.READY ? act(protocol.quit()) : this)
        .build();
  }

  private Behavior<Command> onConnected(Connected c) {
    channel = c.channel();
    relay = name + "[" + c.remote().getAddress().getHostAddress() + "]:" + c.remote().getPort();
    return act(protocol.onConnected());
  }

  private Behavior<Command> onTlsEstablished(TlsEstablished t) {
    if (!level.verified()) {
      log.info("Untrusted TLS connection established to {}: {}", relay, t.description());
      return act(protocol.onTlsEstablished());
    }
    var names = security.tls().names();
    if (!SmtpTlsPolicy.matches(t.peer(), names)) {
      var reason = "Server certificate not verified: " + relay + " presented " + SmtpTlsPolicy.certificateNames(t.peer())
          + ", expected " + String.join(" or ", names);
      log.warn("{}: {} TLS: {}", relay, level.name().toLowerCase(), reason);
      return failJob(TLS_DSN, reason, null);
    }
    log.info("Verified TLS connection established to {}: {}", relay, t.description());
    return act(protocol.onTlsEstablished());
  }

  private Behavior<Command> onTlsFailed(TlsFailed f) {
    log.warn("TLS handshake with {} failed: {}", relay, f.reason());
    if (level.mandatory()) return failJob(TLS_DSN, "Cannot start TLS: handshake failure with " + relay + ": " + f.reason(), null);
    log.info("{}: TLS level may: trying again without TLS", relay);
    timers.cancel(TimedOut.class);
    channel.close();
    channel = null;
    protocol = new SmtpClientProtocol(myhostname, SmtpClientProtocol.TlsLevel.NONE, security.login());
    connect();
    return this;
  }

  private Behavior<Command> onRun(Run run) {
    if (protocol.stage() != SmtpClientProtocol.Stage.READY) {
      // Closing already: the agent gives the job to another connection.
      agent.tell(new DeliveryAgent.ConnectionUnusable(run.job()));
      return this;
    }
    job = run.job();
    return act(protocol.send(job.transaction()));
  }

  /** Does what the protocol asks. */
  private Behavior<Command> act(Next next) {
    switch (next) {
      case Next.Await a -> armTimeout();
      case Next.StartTls s -> {
        startTls();
        armTimeout();
      }
      case Next.Write w -> {
        channel.writeAndFlush(Unpooled.wrappedBuffer(w.bytes()));
        armTimeout();
      }
      case Next.Ready r -> {
        if (protocol.authenticatedWith() != null && !authLogged) {
          authLogged = true;
          log.info("{}: SASL authentication succeeded: sasl_method={}, sasl_username={}",
              relay, protocol.authenticatedWith(), security.login().username());
        }
        if (job != null) return act(protocol.send(job.transaction()));
        return idle();
      }
      case Next.TransactionDone done -> {
        // Idle first: the agent must know this connection is free before the lease completes,
        // or the next lease for this destination may open a new connection beside it.
        var finished = job;
        job = null;
        var idled = idle();
        agent.tell(new DeliveryAgent.JobDone(finished, relay, done.results(), true, "", ""));
        return idled;
      }
      case Next.SessionFailed failed -> {
        var reason = failed.reason();
        if (reason.equals(SmtpClientProtocol.TLS_NOT_OFFERED)) {
          return failJob(reason.enhanced(), "TLS is required, but was not offered by host " + relay, failed.results());
        }
        // A refused STARTTLS keeps its own code; other failures defer as "cannot talk to the site".
        var dsn = reason.transientFailure() && reason.enhanced().startsWith("4.7.") ? reason.enhanced() : SESSION_DSN;
        return failJob(dsn, relayText(reason) + " while " + stageName(failed.stage()), failed.results());
      }
      case Next.AuthFailed a -> {
        var reason = a.serverSaid()
            ? "SASL authentication failed; server " + relay + " said: " + a.reason().oneLine()
            : "SASL authentication failed; cannot authenticate to server " + relay + ": " + String.join(" ", a.reason().lines());
        if (a.mechanism() != null) {
          log.warn("{}: sasl_method={}, sasl_username={}: {}", relay, a.mechanism(), security.login().username(), reason);
        } else {
          log.warn("{}: sasl_username={}: {} (the server offers {}; {} allows {})", relay, security.login().username(), reason,
              String.join(" ", new TreeSet<>(protocol.capabilities().authMechanisms())),
              protocol.tlsActive() ? "smtp_sasl_tls_security_options" : "smtp_sasl_security_options",
              new TreeSet<>(protocol.tlsActive() ? security.login().tlsMechanisms() : security.login().plaintextMechanisms()));
        }
        return failJob(a.serverSaid() ? security.sasl().dsn(a.reason()) : a.reason().enhanced(), reason, null);
      }
      case Next.Closed c -> {
        return closeAndStop();
      }
    }
    return this;
  }

  private void startTls() {
    var self = ctx.getSelf();
    var handler = security.tls().context().newHandler(channel.alloc(), target.host(), target.port());
    handler.handshakeFuture().addListener(f -> {
      if (!f.isSuccess()) {
        self.tell(new TlsFailed(rootMessage(f.cause())));
        return;
      }
      var session = handler.engine().getSession();
      X509Certificate peer = null;
      try {
        if (session.getPeerCertificates()[0] instanceof X509Certificate x509) peer = x509;
      } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
        // No certificate: a verified level finds no name in it.
      }
      self.tell(new TlsEstablished(session.getProtocol() + " with cipher " + session.getCipherSuite(), peer));
    });
    var pipeline = channel.pipeline();
    channel.eventLoop().execute(() -> pipeline.addFirst(handler));
  }

  private Behavior<Command> idle() {
    timers.cancel(TimedOut.class);
    agent.tell(new DeliveryAgent.ConnectionIdle(ctx.getSelf()));
    return this;
  }

  private void armTimeout() {
    var limit = protocol.stage() == SmtpClientProtocol.Stage.CONTENT ? settings.dataDoneTimeout() : settings.heloTimeout();
    timers.startSingleTimer(TimedOut.class, new TimedOut(), limit);
  }

  /**
   * The session is over before the job finished: recipients the server decided keep its
   * reply; the others get {@code dsn} (a 4.x.x defers, a 5.x.x bounces) and {@code reason}.
   * The site did not answer usefully, which is negative feedback for the destination's window.
   */
  private Behavior<Command> failJob(String dsn, String reason, List<SmtpClientProtocol.RecipientResult> decided) {
    if (job != null) {
      agent.tell(new DeliveryAgent.JobDone(job, relay, decided == null ? List.of() : decided, false, dsn, reason));
      job = null;
    }
    return closeAndStop();
  }

  /**
   * The agent watches this actor: its stop takes it out of the connection cache, and out of
   * its destination's count of connections open at the site. So it stops only once the socket
   * is closed (the site has our FIN): the place it frees cannot be taken by a new connection
   * while this one is still established.
   */
  private Behavior<Command> closeAndStop() {
    if (channel == null) return Behaviors.stopped();
    channel.close().addListener(closed -> ctx.getSelf().tell(new Closed()));
    return Behaviors.receive(Command.class)
        .onMessage(Closed.class, c -> Behaviors.stopped())
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private String relayText(Reply reply) {
    return "host " + relay + " said: " + reply.oneLine();
  }

  private static String stageName(SmtpClientProtocol.Stage stage) {
    return stage.name().toLowerCase();
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) t = t.getCause();
    var m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m.replaceFirst("^.*: ", "");
  }

  /** Netty side: each reply line, decoded, to the actor. */
  private static final class ReplyLines extends SimpleChannelInboundHandler<ByteBuf> {
    private final ActorRef<Command> connection;

    ReplyLines(ActorRef<Command> connection) {
      this.connection = connection;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext c, ByteBuf line) {
      var text = line.toString(StandardCharsets.UTF_8);
      connection.tell(new Line(c.channel(), text.endsWith("\r") ? text.substring(0, text.length() - 1) : text));
    }

    @Override
    public void channelActive(ChannelHandlerContext c) throws Exception {
      connection.tell(new Connected(c.channel(), (InetSocketAddress) c.channel().remoteAddress()));
      super.channelActive(c);
    }

    @Override
    public void channelInactive(ChannelHandlerContext c) {
      connection.tell(new Disconnected(c.channel()));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
      c.close();
    }
  }

}

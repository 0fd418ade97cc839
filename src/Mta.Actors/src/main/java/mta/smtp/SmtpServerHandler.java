package mta.smtp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The Netty edge of one smtpd session: it cuts the byte stream into command lines and DATA
 * bodies and hands them to the {@link SmtpSession} actor, in order, a read's worth at a time.
 *
 * <p>After a DATA line it stops reading until the session decides: on 354 the following
 * bytes are the body (however early the client sent them, as in Postfix), otherwise they are
 * commands. While it waits the socket is not read, so a client cannot make us buffer without
 * bound. STARTTLS pauses the same way; if the session goes ahead, whatever the client
 * pipelined after it in plaintext is dropped (CVE-2011-0411) and TLS goes first in the
 * pipeline. The session hears how each handshake ended, implicit TLS's included.
 *
 * <p>For a client under the pregreet test ({@link PregreetTest}) it reads from the start and
 * counts what arrives before the greeting, keeping only a sample for the log; at greeting time
 * such a client gets no greeting, and its session hears {@link SmtpSession.Pregreeted}. Other
 * clients are not read before the greeting, as before.
 */
final class SmtpServerHandler extends ChannelInboundHandlerAdapter {
  /** Octets of early talk shown in the PREGREET log line. */
  private static final int PREGREET_SAMPLE = 100;

  private final CommandLineReader lines = new CommandLineReader();
  private final boolean pregreetTest;
  private final long connectedAt = System.nanoTime();
  private final StringBuilder pregreetSample = new StringBuilder();
  private int pregreetOctets;
  private long pregreetAt;
  private ActorRef<SmtpSession.Command> session;
  private ChannelHandlerContext channel;
  private ByteBuf buffer;
  private DataReader body;
  private boolean paused;

  /** @param pregreetTest read before the greeting, and refuse a client that talks before it */
  SmtpServerHandler(boolean pregreetTest) {
    this.pregreetTest = pregreetTest;
  }

  /**
   * From the session actor: send the greeting and start reading, in one step on the event loop
   * so that nothing the client sends after the greeting can pass for early talk; or, when the
   * client has talked already, tell the session instead.
   */
  void start(ActorRef<SmtpSession.Command> session, String greeting) {
    channel.executor().execute(() -> {
      if (pregreetOctets > 0) {
        session.tell(new SmtpSession.Pregreeted(pregreetOctets, pregreetSample.toString(),
            (pregreetAt - connectedAt) / 1e9));
        return;
      }
      channel.writeAndFlush(Unpooled.wrappedBuffer(greeting.getBytes(StandardCharsets.UTF_8)));
      this.session = session;
      var tls = channel.pipeline().get(SslHandler.class);
      if (tls != null) watch(tls);
      if (channel.channel().isActive()) resumeNow();
      else session.tell(new SmtpSession.Disconnected());
    });
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx;
    buffer = ctx.alloc().buffer(1024);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    buffer.release();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (pregreetTest) ctx.channel().config().setAutoRead(true);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    var in = (ByteBuf) msg;
    if (session == null && pregreetTest) {
      pregreet(in);
      return;
    }
    try {
      buffer.writeBytes(in);
    } finally {
      in.release();
    }
    // Before the greeting (a TLS handshake may read early): kept for when reading starts.
    if (session != null) process();
  }

  /** Early talk: counted and sampled, never kept. */
  private void pregreet(ByteBuf in) {
    try {
      if (pregreetOctets == 0) pregreetAt = System.nanoTime();
      pregreetOctets += in.readableBytes();
      int room = PREGREET_SAMPLE - pregreetSample.length();
      if (room > 0) {
        pregreetSample.append(in.toString(in.readerIndex(), Math.min(room, in.readableBytes()),
            StandardCharsets.ISO_8859_1));
      }
    } finally {
      in.release();
    }
  }

  /** From the session (any thread): the DATA command was accepted; read a body within these limits. */
  void beginData(long sizeLimit, int headerSizeLimit) {
    channel.executor().execute(() -> {
      body = new DataReader(sizeLimit, headerSizeLimit);
      resumeNow();
    });
  }

  /** From the session (any thread): the DATA command was refused; carry on with commands. */
  void resume() {
    channel.executor().execute(this::resumeNow);
  }

  /** From the session (any thread), after its 220 to STARTTLS: drop what was read, then TLS. */
  void startTls(SslContext context) {
    channel.executor().execute(() -> {
      buffer.clear();
      var tls = context.newHandler(channel.alloc());
      channel.pipeline().addFirst(tls);
      watch(tls);
      resumeNow();
    });
  }

  private void watch(SslHandler tls) {
    tls.handshakeFuture().addListener(f -> session.tell(f.isSuccess()
        ? new SmtpSession.TlsEstablished(SmtpdTls.describe(tls.engine().getSession()))
        : new SmtpSession.TlsFailed(String.valueOf(f.cause().getMessage()))));
  }

  private void resumeNow() {
    paused = false;
    channel.channel().config().setAutoRead(true);
    process();
  }

  private void process() {
    var batch = new ArrayList<CommandLineReader.Line>();
    while (!paused && channel.channel().isActive()) {
      if (body != null) {
        if (!body.feed(buffer)) break;
        flush(batch, false);
        var result = body.result();
        body = null;
        session.tell(new SmtpSession.DataDone(result));
        // After a bare line ending the session hangs up: read nothing more.
        if (result instanceof DataResult.BareLineEnding) pause();
        continue;
      }
      var line = lines.next(buffer);
      if (line.isEmpty()) break;
      batch.add(line.get());
      switch (line.get()) {
        case CommandLineReader.Line.Command c when pausesAfter(c.text()) -> pause();
        case CommandLineReader.Line.BareLineEnding b -> pause();
        default -> { }
      }
    }
    flush(batch, paused);
    buffer.discardSomeReadBytes();
  }

  private void pause() {
    paused = true;
    channel.channel().config().setAutoRead(false);
  }

  private void flush(List<CommandLineReader.Line> batch, boolean awaitingDecision) {
    if (batch.isEmpty()) return;
    session.tell(new SmtpSession.Input(List.copyOf(batch), awaitingDecision));
    batch.clear();
  }

  /** DATA and STARTTLS: what follows depends on the reply. */
  private static boolean pausesAfter(String line) {
    var verb = line.strip();
    int space = verb.indexOf(' ');
    verb = space < 0 ? verb : verb.substring(0, space);
    return verb.equalsIgnoreCase("DATA") || verb.equalsIgnoreCase("STARTTLS");
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && session != null) session.tell(new SmtpSession.TimedOut());
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (session != null) session.tell(new SmtpSession.Disconnected());
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}

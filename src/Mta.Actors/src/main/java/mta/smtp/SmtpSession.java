package mta.smtp;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.List;
import mta.ingest.Cleanup;
import mta.mail.Dsn;
import mta.mail.Reply;
import mta.management.Metrics;
import mta.maps.LookupFailure;
import mta.queue.Message;
import mta.queue.QueueId;
import mta.smtp.SmtpServerProtocol.Step;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP connection (Postfix's smtpd process for one client): it feeds what the
 * {@link SmtpServerHandler} reads into {@link SmtpServerProtocol}, writes the replies, and at
 * end of DATA runs cleanup and routing and asks a new {@link Message} entity to accept the
 * message. {@code 250} goes out only when that entity's journal write has committed; a
 * failed or slow write answers {@code 451 4.3.0} and the session carries on.
 */
public final class SmtpSession {
  private static final Logger log = LoggerFactory.getLogger("smtpd");
  /** "Carry on as you are": compared by identity to tell it from a change of behavior. */
  private static final Behavior<Command> SAME = Behaviors.same();

  public sealed interface Command {}

  /** Lines read in one go; {@code awaitingDecision}: the reader paused after the last (DATA). */
  record Input(List<CommandLineReader.Line> lines, boolean awaitingDecision) implements Command {}

  record DataDone(DataResult result) implements Command {}

  record Disconnected() implements Command {}

  record TimedOut() implements Command {}

  record TlsEstablished(SmtpdState.TlsSession tls) implements Command {}

  record TlsFailed(String reason) implements Command {}

  /** The client talked before its greeting (see {@link PregreetTest}); it gets none. */
  record Pregreeted(int octets, String sample, double seconds) implements Command {}

  private record Resolved(String hostname) implements Command {}

  /** Anvil's count of this connection; null counts when it did not answer. */
  private record Counted(mta.anvil.Anvil.Connected counts, Throwable failure) implements Command {}

  private record GreetWaitOver() implements Command {}

  private record QueueAnswered(String queueId, Message.Accepted message, Throwable failure) implements Command {}

  static Behavior<Command> create(Channel channel, SmtpServerHandler handler, SmtpdServices services,
      SmtpServerProtocol.Security security) {
    return Behaviors.setup(ctx -> Behaviors.withStash(10_000,
        stash -> new SmtpSession(ctx, stash, channel, handler, services, security).resolving()));
  }

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final Channel channel;
  private final SmtpServerHandler handler;
  private final SmtpdServices services;
  private final SmtpServerProtocol.Security security;
  private SmtpServerProtocol protocol;
  private ClientInfo client;
  /** Before the greeting: anvil has not answered yet; postscreen_greet_wait has not passed yet. */
  private boolean counting;
  private boolean greetWaiting;
  /** Talking after the greeting passes the pregreet test, once. */
  private boolean talked;

  private SmtpSession(ActorContext<Command> ctx, StashBuffer<Command> stash, Channel channel, SmtpServerHandler handler,
      SmtpdServices services, SmtpServerProtocol.Security security) {
    this.ctx = ctx;
    this.stash = stash;
    this.channel = channel;
    this.handler = handler;
    this.services = services;
    this.security = security;
  }

  /**
   * Before the greeting, as smtpd does: the client's name by reverse DNS (off the actor
   * threads), its count at anvil when a connection limit is on (a client over it hears 421 and
   * nothing else), and postscreen_greet_wait for a client under the pregreet test.
   */
  private Behavior<Command> resolving() {
    var remote = (java.net.InetSocketAddress) channel.remoteAddress();
    if (remote == null) return Behaviors.stopped();
    var address = remote.getAddress();
    var blocking = ctx.getSystem().dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
    ctx.pipeToSelf(java.util.concurrent.CompletableFuture.supplyAsync(address::getCanonicalHostName, blocking),
        (name, failure) -> new Resolved(name == null || name.equals(address.getHostAddress()) ? "unknown" : name));
    var wait = services.pregreet().waitFor(address, System.currentTimeMillis());
    if (!wait.isZero()) {
      greetWaiting = true;
      ctx.scheduleOnce(wait, ctx.getSelf(), new GreetWaitOver());
    }
    return Behaviors.receive(Command.class)
        .onMessage(Resolved.class, r -> {
          client = new ClientInfo(address, remote.getPort(), r.hostname());
          protocol = new SmtpServerProtocol(services.settings(), client, services.checks(), security, services.limits(),
              services.anvil());
          log.info("connect from {}", client);
          if (protocol.countsConnection()) {
            counting = true;
            ctx.pipeToSelf(mta.Asks.onAnsweringThread(services.anvil().connect(client.addressText(), ctx.getSelf())), Counted::new);
          }
          return greetWhenReady();
        })
        .onMessage(Counted.class, c -> {
          counting = false;
          if (c.failure() != null) {
            mta.anvil.AnvilClient.unavailable(client.addressText(), c.failure());
          } else {
            var refusal = protocol.connectionLimit(c.counts());
            if (refusal != null) return close(refusal);
          }
          return greetWhenReady();
        })
        .onMessage(GreetWaitOver.class, w -> {
          greetWaiting = false;
          return greetWhenReady();
        })
        .build();
  }

  private Behavior<Command> greetWhenReady() {
    if (client == null || counting || greetWaiting) return SAME;
    var greeting = protocol.greeting();
    if (!greeting.positive()) Metrics.rejected(greeting);
    handler.start(ctx.getSelf(), greeting.wire());
    return reading();
  }

  private Behavior<Command> reading() {
    return Behaviors.receive(Command.class)
        .onMessage(Input.class, this::onInput)
        .onMessage(Pregreeted.class, p -> close(protocol.pregreet(p.octets(), p.sample(), p.seconds())))
        .onMessage(DataDone.class, d -> step(protocol.onData(d.result()), true))
        .onMessage(TimedOut.class, t -> close(protocol.timeout()))
        .onMessage(Disconnected.class, d -> disconnected())
        .onMessage(TlsEstablished.class, this::onTlsEstablished)
        .onMessage(TlsFailed.class, f -> {
          log.warn("warning: SSL_accept error from {}: {}", client, f.reason());
          return SAME;
        })
        .build();
  }

  private Behavior<Command> onTlsEstablished(TlsEstablished t) {
    protocol.tlsEstablished(t.tls());
    log.info("Anonymous TLS connection established from {}: {}", client, t.tls().description());
    return SAME;
  }

  private Behavior<Command> onInput(Input input) {
    if (!talked) {
      talked = true;
      services.pregreet().passed(client.address(), System.currentTimeMillis());
    }
    var lines = input.lines();
    for (int i = 0; i < lines.size(); i++) {
      boolean last = i == lines.size() - 1;
      var step = switch (lines.get(i)) {
        case CommandLineReader.Line.Command c -> protocol.onCommand(c.text(), c.pipelined());
        case CommandLineReader.Line.TooLong t -> new Step.Respond(protocol.lineTooLong());
        case CommandLineReader.Line.BareLineEnding b -> new Step.RespondAndClose(protocol.bareLineEnding());
      };
      if (last && input.awaitingDecision() && step instanceof Step.Respond) handler.resume();
      var next = step(step, last);
      if (next != SAME) return next;
    }
    return SAME;
  }

  /** Carries out one protocol step; returns the behavior to continue with. */
  private Behavior<Command> step(Step step, boolean flush) {
    return switch (step) {
      case Step.Respond r -> {
        write(r.reply(), flush);
        yield SAME;
      }
      case Step.RespondAndClose r -> close(r.reply());
      case Step.StartData r -> {
        handler.beginData(services.settings().messageSizeLimit(), services.headerSizeLimit());
        write(r.reply(), true);
        yield SAME;
      }
      case Step.StartTls r -> {
        write(r.reply(), true);
        handler.startTls(services.tls().context());
        yield SAME;
      }
      case Step.Enqueue e -> enqueue(e);
    };
  }

  private Behavior<Command> enqueue(Step.Enqueue e) {
    var queueId = QueueId.next(services.home());
    var user = protocol.authenticatedUser();
    log.info("{}: client={}{}", queueId, client,
        user == null ? "" : ", sasl_method=" + protocol.saslMethod() + ", sasl_username=" + user);
    if (e.discard()) {
      // A restriction said DISCARD: the client hears "queued", and nothing is (as in Postfix).
      log.info("{}: discard: from=<{}>, nrcpt={}: DISCARD action", queueId, e.envelope().sender(), e.envelope().recipients().size());
      write(protocol.onQueued(queueId), true);
      return SAME;
    }
    var tls = protocol.tls();
    var origin = new Cleanup.Origin(e.heloName(), client.hostname(), client.addressText(), e.protocol(),
        tls == null ? null : tls.description(), user);
    Message.Accepted accepted;
    try {
      switch (services.cleanup().clean(queueId, e.envelope(), origin, e.content(), ZonedDateTime.now())) {
        case Cleanup.Outcome.Refuse refused -> {
          write(protocol.onRefused(refused.reply()), true);
          return SAME;
        }
        case Cleanup.Outcome.Discard discarded -> {
          write(protocol.onQueued(queueId), true);
          return SAME;
        }
        case Cleanup.Outcome.Queue queue -> {
          var envelope = e.envelope();
          var recipients = queue.recipients().stream()
              .map(r -> {
                // The RCPT's NOTIFY and ORCPT stay with it; an alias expansion's members get none.
                int asGiven = envelope.recipients().indexOf(r);
                var dsn = asGiven < 0 ? Dsn.Rcpt.NONE : envelope.recipientDsn().get(asGiven);
                var resolved = services.resolver().resolve(queue.sender(), r);
                return new Message.RoutedRecipient(resolved.recipient().toString(), resolved.route().toString(), dsn);
              })
              .distinct()
              .toList();
          accepted = new Message.Accepted(queue.sender().toString(), recipients, System.currentTimeMillis(), queue.content(),
              e.hold() || queue.hold(), envelope.dsn());
        }
      }
    } catch (LookupFailure failure) {
      log.warn("warning: {}: {} -- message not accepted, try again later", queueId, failure.getMessage());
      write(protocol.onRefused(Reply.of(451, "4.3.0", "Temporary lookup failure")), true);
      return SAME;
    }
    ctx.pipeToSelf(Message.accept(services.sharding(), queueId, accepted, services.journalTimeout()),
        (done, failure) -> new QueueAnswered(queueId, accepted, failure));
    return Behaviors.receive(Command.class)
        .onMessage(QueueAnswered.class, this::onQueueAnswered)
        .onMessage(Disconnected.class, d -> disconnected())
        .onAnyMessage(m -> {
          stash.stash(m);
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onQueueAnswered(QueueAnswered a) {
    if (a.failure() == null) {
      log.info("{}: from=<{}>, size={}, nrcpt={} (queue active)", a.queueId(), a.message().sender(),
          a.message().content().length, a.message().recipients().size());
      Metrics.accepted();
      write(protocol.onQueued(a.queueId()), true);
    } else {
      write(protocol.onQueueFailed(a.failure().getMessage()), true);
    }
    return stash.unstashAll(reading());
  }

  private void write(Reply reply, boolean flush) {
    if (!reply.positive()) Metrics.rejected(reply);
    var bytes = Unpooled.wrappedBuffer(reply.wire().getBytes(StandardCharsets.UTF_8));
    if (flush) channel.writeAndFlush(bytes);
    else channel.write(bytes);
  }

  private Behavior<Command> close(Reply reply) {
    if (!reply.positive()) Metrics.rejected(reply);
    channel.writeAndFlush(Unpooled.wrappedBuffer(reply.wire().getBytes(StandardCharsets.UTF_8)))
        .addListener(ChannelFutureListener.CLOSE);
    return disconnected();
  }

  private Behavior<Command> disconnected() {
    log.info("disconnect from {}", client);
    return Behaviors.stopped();
  }

}

package mta.smtp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mta.config.ConfigError;
import mta.config.HostPort;
import mta.config.MtaConfig;
import mta.mail.Reply;
import mta.management.Metrics;
import mta.net.EventLoops;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import mta.queue.QueueId;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP listeners of a node: {@code listen.smtp}, and when set {@code listen.submission}
 * (587, AUTH before MAIL) and {@code listen.submissions} (465, TLS from the first byte, RFC
 * 8314, AUTH before MAIL). Netty accepts connections and this actor spawns one
 * {@link SmtpSession} child per connection. On shutdown it first stops accepting
 * ({@link Unbind}), then waits for its sessions to end ({@link Drain}). A listen address that
 * cannot be bound stops the node.
 *
 * <p>At most {@code default_process_limit} sessions run at once, over all ports: a connection
 * beyond that gets {@code 421 4.3.2 All server ports are busy} (postscreen's words) and is
 * closed at once, with no session actor, so idle or slow clients cannot make a node grow
 * without bound. Postfix's master leaves such a client waiting in the listen queue instead;
 * an answer lets it try another MX now.
 */
public final class SmtpServer {
  private static final Logger log = LoggerFactory.getLogger("master");
  private static final Reply ALL_PORTS_BUSY = Reply.of(421, "4.3.2", "All server ports are busy");
  private static final DispatcherSelector SESSION_DISPATCHER = DispatcherSelector.fromConfig("mta-smtpd-dispatcher");

  /** A listening port, named by its {@code mta.listen} key. */
  enum Service {
    SMTP, SUBMISSION, SUBMISSIONS;

    String key() {
      return "mta.listen." + name().toLowerCase(Locale.ROOT);
    }
  }

  public sealed interface Command {}

  public record Unbind(ActorRef<Done> replyTo) implements Command {}

  public record Drain(ActorRef<Done> replyTo) implements Command {}

  private record Accepted(SocketChannel channel, SmtpServerHandler handler, SmtpServerProtocol.Security security)
      implements Command {}

  private record Bound(Service service, HostPort listen, Channel channel, Throwable failure) implements Command {}

  private SmtpServer() {}

  public static Behavior<Command> create(MtaConfig config, EventLoops loop) {
    return Behaviors.setup(ctx -> {
      var listeners = listeners(config);
      var services = SmtpdServices.from(config, ClusterSharding.get(ctx.getSystem()), QueueId.homeTag(ctx.getSystem()));
      var self = ctx.getSelf();
      var timeout = config.smtpdTimeout().toMillis();
      listeners.forEach((service, listen) -> {
        var security = services.security(service);
        var bootstrap = new ServerBootstrap().group(loop.group()).channel(loop.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.AUTO_READ, false)
            .childHandler(new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                var handler = new SmtpServerHandler(services.pregreet().applies(ch.remoteAddress().getAddress()));
                if (security.implicitTls()) ch.pipeline().addLast(services.tls().context().newHandler(ch.alloc()));
                ch.pipeline().addLast(new IdleStateHandler(timeout, 0, 0, TimeUnit.MILLISECONDS), handler);
                self.tell(new Accepted(ch, handler, security));
              }
            });
        bootstrap.bind(listen.host(), listen.port()).addListener((ChannelFutureListener) f ->
            self.tell(new Bound(service, listen, f.channel(), f.isSuccess() ? null : f.cause())));
      });
      return binding(ctx, services, listeners.size(), new ArrayList<>());
    });
  }

  private static Map<Service, HostPort> listeners(MtaConfig config) {
    var listeners = new EnumMap<Service, HostPort>(Service.class);
    listeners.put(Service.SMTP, config.listenSmtp());
    for (var service : List.of(Service.SUBMISSION, Service.SUBMISSIONS)) {
      var value = config.config().getString(service.key());
      try {
        if (!value.isBlank()) listeners.put(service, HostPort.parse(value));
      } catch (IllegalArgumentException e) {
        throw new ConfigError(service.key() + ": " + e.getMessage());
      }
    }
    return listeners;
  }

  private static Behavior<Command> binding(ActorContext<Command> ctx, SmtpdServices services, int expected, List<Channel> bound) {
    return Behaviors.receive(Command.class)
        .onMessage(Bound.class, b -> {
          if (b.failure() != null) {
            log.error("fatal: bind {}: {}", b.listen(), b.failure().getMessage());
            bound.forEach(Channel::close);
            ctx.getSystem().terminate();
            return Behaviors.stopped();
          }
          log.info("listening on {} {}", b.service().name().toLowerCase(Locale.ROOT), b.listen());
          bound.add(b.channel());
          return bound.size() == expected ? listening(ctx, services, List.copyOf(bound)) : Behaviors.same();
        })
        .onMessage(Accepted.class, a -> {
          a.channel().close();
          return Behaviors.same();
        })
        .build();
  }

  private static Behavior<Command> listening(ActorContext<Command> ctx, SmtpdServices services, List<Channel> servers) {
    var sessions = new int[] {0};
    var drainers = new ArrayList<ActorRef<Done>>();
    return Behaviors.receive(Command.class)
        .onMessage(Accepted.class, a -> {
          if (!a.channel().parent().isOpen()) {
            a.channel().close();
            return Behaviors.same();
          }
          if (sessions[0] >= services.processLimit()) {
            busy(a.channel(), services.processLimit(), sessions[0]);
            return Behaviors.same();
          }
          var session = ctx.spawnAnonymous(SmtpSession.create(a.channel(), a.handler(), services, a.security()), SESSION_DISPATCHER);
          ctx.watch(session);
          sessions[0]++;
          Metrics.smtpdConnection();
          return Behaviors.same();
        })
        .onMessage(Unbind.class, u -> {
          var open = new AtomicInteger(servers.size());
          servers.forEach(server -> server.close().addListener(f -> {
            if (open.decrementAndGet() == 0) u.replyTo().tell(Done.getInstance());
          }));
          log.info("stopped accepting smtp connections; {} sessions under way", sessions[0]);
          return Behaviors.same();
        })
        .onMessage(Drain.class, d -> {
          drainers.add(d.replyTo());
          return drained(sessions[0], drainers);
        })
        .onSignal(Terminated.class, t -> {
          sessions[0]--;
          Metrics.smtpdDisconnection();
          return drained(sessions[0], drainers);
        })
        .build();
  }

  private static void busy(SocketChannel channel, int limit, int sessions) {
    log.warn("warning: smtpd process limit {} reached ({} sessions): refusing {}", limit, sessions, channel.remoteAddress());
    Metrics.rejected(ALL_PORTS_BUSY);
    channel.writeAndFlush(Unpooled.wrappedBuffer(ALL_PORTS_BUSY.wire().getBytes(StandardCharsets.US_ASCII)))
        .addListener(ChannelFutureListener.CLOSE);
  }

  private static Behavior<Command> drained(int sessions, List<ActorRef<Done>> drainers) {
    if (sessions == 0) {
      drainers.forEach(d -> d.tell(Done.getInstance()));
      drainers.clear();
    }
    return Behaviors.same();
  }
}

package mta.delivery;

import java.time.Duration;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mta.Asks;
import mta.CborSerializable;
import org.apache.pekko.Done;
import mta.config.HostPort;
import mta.config.MtaConfig;
import mta.mail.MailAddress;
import mta.maps.LookupFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import mta.mail.Reply;
import mta.management.Metrics;
import mta.net.EventLoops;
import mta.queue.NodeQueue;
import mta.queue.Message;
import mta.queue.RecipientResult;
import mta.queue.Submission;
import mta.delivery.local.LocalDelivery;
import mta.delivery.local.LocalResult;
import mta.delivery.local.VirtualDelivery;
import java.util.function.Function;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.DispatcherSelector;
import mta.queue.RecipientResult.Outcome;
import mta.routing.Route;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery agent of one node: it takes leases from its node's queue ({@link NodeQueue},
 * within the node's share of each destination's window), fetches the message from its
 * Message entity, delivers it over a new or a cached {@link SmtpConnection} (one actor per
 * outbound connection), logs each recipient's result the Postfix way, and reports results to
 * the Message entity and completion to the queue.
 *
 * <p>Transports: {@code smtp} (and {@code relay}) deliver over SMTP, to a {@code [host]:port}
 * next hop as it is, or to the MX hosts of a {@code domain[:port]} next hop in preference
 * order ({@link MxResolver}); {@code local} writes Maildir or mbox mailboxes after alias
 * expansion ({@link LocalDelivery}), {@code virtual} those of virtual_mailbox_maps
 * ({@link VirtualDelivery}); {@code error} bounces with the next hop as the reason
 * and {@code discard} drops the mail, as in Postfix.
 *
 * <p>The connection cache (Postfix's scache) is per destination: an idle connection serves
 * only further leases of the queue it was opened for, it closes after
 * {@code smtp_connection_cache_time_limit}, and the queue is told how many the agent keeps
 * (with each completed lease, and when one closes), because they count in the node's share
 * of the window. A lease is reported complete only after its Message entity has recorded the
 * results, so the queue never hands out again what was just delivered.
 *
 * <p>When the node leaves ({@link Leave}) the agent closes its idle connections and hands
 * back every lease still offered to it; the ones under way finish ({@link Drain}).
 */
public final class DeliveryAgent extends AbstractBehavior<DeliveryAgent.Command> {
  private static final Logger log = LoggerFactory.getLogger("smtp");
  /** How long the Message entity may take to hand out its content, or to record results. */
  private static final Duration MESSAGE_TIMEOUT = Duration.ofSeconds(30);

  public sealed interface Command extends CborSerializable {}

  /** From this node's queue: deliver this lease. */
  public record Deliver(NodeQueue.Lease lease) implements Command {}

  /**
   * From this node's queue: its share of the destination shrank, so at most {@code keep}
   * connections to it may stay idle; the others close now rather than hold places at the
   * site that another node's share needs.
   */
  public record CloseIdle(String route, int keep) implements Command {}

  /** From CoordinatedShutdown, before anything else stops: take no more leases. */
  public record Leave(ActorRef<Done> replyTo) implements Command {}

  /** From CoordinatedShutdown: answer when no delivery is under way any more. */
  public record Drain(ActorRef<Done> replyTo) implements Command {}

  private record Fetched(NodeQueue.Lease lease, Message.Content content, Throwable failure) implements Command {}

  /**
   * A lease with its message: what a connection carries out. {@code targets} are the hosts
   * to try, best first (the MX list); a session that fails before the server has taken or
   * refused any recipient moves on to the next one (Postfix: connection failure, or a
   * greeting other than 2xx, means "try the next MX").
   */
  record Job(NodeQueue.Lease lease, Message.Content content, List<Target> targets) {
    Target target() {
      return targets.get(0);
    }

    boolean hasNextTarget() {
      return targets.size() > 1;
    }

    Job nextTarget() {
      return new Job(lease, content, targets.subList(1, targets.size()));
    }

    SmtpClientProtocol.Transaction transaction() {
      return new SmtpClientProtocol.Transaction(MailAddress.parse(content.sender()),
          lease.recipients().stream().map(MailAddress::parse).toList(), content.content());
    }
  }

  /** One host to deliver to: its name, for the log, and where to connect. */
  record Target(String name, HostPort address) {}

  private record Resolved(Job job, int port, MxResolver.Result result) implements Command {}

  private record DeliveredLocally(NodeQueue.Lease lease, List<RecipientResult> results) implements Command {}

  /** {@code failureDsn} and {@code failure}: what recipients the server did not decide get (4.x.x defers, 5.x.x bounces). */
  record JobDone(Job job, String relay, List<SmtpClientProtocol.RecipientResult> results, boolean siteAnswered,
      String failureDsn, String failure) implements Command {}

  /**
   * What an idle connection can be reused for: the same host, TLS policy, expected
   * certificate names and SASL user (as Postfix labels its connection cache), so a session
   * verified or authenticated for one next hop never carries another's mail.
   */
  record ConnectionKey(HostPort address, SmtpTlsPolicy.Policy tls, List<String> certificateNames, String saslUsername) {}

  record ConnectionIdle(ActorRef<SmtpConnection.Command> connection) implements Command {}

  /** Results are in the journal (or the Message entity did not answer): the lease can go back. */
  private record Recorded(NodeQueue.Lease lease, boolean siteAnswered, String reason, Throwable failure)
      implements Command {}

  /** An idle connection has waited smtp_connection_cache_time_limit: it closes. */
  private record CacheTimeUp(ActorRef<SmtpConnection.Command> connection) implements Command {}

  /** What a cached connection is kept for: one destination, and the host and security it was opened with. */
  private record Endpoint(String route, ConnectionKey key) {}

  /** A connection actor stopped (closed, or failed): it leaves the cache, and a job it had not finished goes out again. */
  private record ConnectionGone(ActorRef<SmtpConnection.Command> connection) implements Command {}

  record ConnectionUnusable(Job job) implements Command {}

  /**
   * @param local the local transport (Postfix's local daemon)
   * @param virtual the virtual transport (Postfix's virtual daemon)
   * @param submission queues what the local transport forwards (alias members elsewhere)
   */
  public static Behavior<Command> create(
      MtaConfig config, EventLoops loop, LocalDelivery local, VirtualDelivery virtual, Submission submission,
      ActorRef<NodeQueue.Command> queue) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      queue.tell(new NodeQueue.AgentStarted(ctx.getSelf()));
      return new DeliveryAgent(ctx, timers, config, loop, local, virtual, submission, queue);
    }));
  }

  private final ActorContext<Command> ctx;
  private final MtaConfig config;
  private final EventLoops loop;
  private final ClusterSharding sharding;
  private final MxResolver mx;
  private final SmtpTlsPolicy tls;
  private final SmtpSasl sasl;
  private final TimerScheduler<Command> timers;
  /** Idle connections, newest first, by the destination, host and security they were opened for. */
  private final Map<Endpoint, ArrayDeque<ActorRef<SmtpConnection.Command>>> idle = new HashMap<>();
  /** Every live connection's destination, host and security. */
  private final Map<ActorRef<SmtpConnection.Command>, Endpoint> endpoints = new HashMap<>();
  /** Connections told to quit (their cache time is up) or whose session failed, open at the site until they are gone. */
  private final Set<ActorRef<SmtpConnection.Command>> closing = new HashSet<>();
  /** Jobs whose new connection waits until a connection to the same destination has quit (by route). */
  private final Map<String, ArrayDeque<Job>> awaitingClose = new HashMap<>();
  /** The job each connection is carrying out. */
  private final Map<ActorRef<SmtpConnection.Command>, Job> running = new HashMap<>();
  /** The node is leaving: leases offered now are handed back. */
  private boolean leaving;
  /** Leases taken and not yet reported back, by id. */
  private final Map<Long, NodeQueue.Lease> inFlight = new HashMap<>();
  private final List<ActorRef<Done>> drainers = new ArrayList<>();

  private final LocalDelivery local;
  private final VirtualDelivery virtual;
  private final Submission submission;
  private final ActorRef<NodeQueue.Command> queue;

  private DeliveryAgent(ActorContext<Command> ctx, TimerScheduler<Command> timers, MtaConfig config, EventLoops loop,
      LocalDelivery local, VirtualDelivery virtual, Submission submission, ActorRef<NodeQueue.Command> queue) {
    super(ctx);
    this.queue = queue;
    this.timers = timers;
    this.local = local;
    this.virtual = virtual;
    this.submission = submission;
    this.ctx = ctx;
    this.config = config;
    this.loop = loop;
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.mx = mxResolver(config);
    this.tls = SmtpTlsPolicy.from(config.config());
    this.sasl = SmtpSasl.from(config.config());
  }

  /**
   * Reads the smtp client's TLS policy and SASL settings as the agent will, so that a mistake
   * stops the node at start rather than the agent later.
   *
   * @throws mta.config.ConfigError naming the key
   */
  public static void checkSettings(MtaConfig config) {
    SmtpTlsPolicy.from(config.config());
    SmtpSasl.from(config.config());
  }

  /** Our own addresses, for loop detection: what smtpd listens on, or every interface. */
  private static MxResolver mxResolver(MtaConfig config) {
    var dns = config.config().getConfig("mta.dns");
    var resolvers = dns.getStringList("resolvers").stream().map(HostPort::parse).toList();
    var listen = config.listenSmtp().host();
    Set<InetAddress> own;
    try {
      var address = InetAddress.getByName(listen);
      own = address.isAnyLocalAddress() ? MxResolver.interfaceAddresses() : Set.of(address);
    } catch (UnknownHostException e) {
      own = MxResolver.interfaceAddresses();
    }
    return new MxResolver(resolvers, dns.getDuration("timeout"), config.myhostname(), own);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(Drain.class, d -> {
          drainers.add(d.replyTo());
          return drainedIfIdle();
        })
        .onMessage(Fetched.class, this::onFetched)
        .onMessage(Resolved.class, this::onResolved)
        .onMessage(DeliveredLocally.class, d -> {
          finish(d.lease(), d.results(), true);
          return this;
        })
        .onMessage(JobDone.class, this::onJobDone)
        .onMessage(Recorded.class, this::onRecorded)
        .onMessage(ConnectionIdle.class, this::onConnectionIdle)
        .onMessage(CloseIdle.class, c -> {
          closeIdle(c.route(), c.keep());
          return this;
        })
        .onMessage(CacheTimeUp.class, c -> {
          retire(c.connection());
          return this;
        })
        .onMessage(ConnectionGone.class, this::onConnectionGone)
        .onMessage(ConnectionUnusable.class, c -> {
          running.values().remove(c.job());
          startJob(c.job());
          return this;
        })
        .build();
  }

  private Behavior<Command> onDeliver(Deliver d) {
    if (leaving) {
      queue.tell(new NodeQueue.LeaseDeclined(d.lease().id(), d.lease().route()));
      return this;
    }
    inFlight.put(d.lease().id(), d.lease());
    ctx.pipeToSelf(Asks.onAnsweringThread(message(d.lease()).askWithStatus(Message.GetContentToDeliver::new, MESSAGE_TIMEOUT)),
        (content, failure) -> new Fetched(d.lease(), content, failure));
    return this;
  }

  /**
   * The node leaves: the idle connections close, and a lease still offered (the node's queue
   * stops leasing when it hears of the leave too) is handed back. Deliveries under way go on;
   * {@link Drain} waits for them.
   */
  private Behavior<Command> onLeave(Leave l) {
    leaving = true;
    List.copyOf(endpoints.keySet()).forEach(this::retire);
    log.info("stopped taking deliveries; {} under way", inFlight.size());
    l.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onFetched(Fetched f) {
    var lease = f.lease();
    if (f.failure() != null) {
      // The message is gone (finished or deleted) or out of reach: nothing to deliver now;
      // its entity hands the recipients out again if they are still open.
      leaseDone(lease, true, "");
      return this;
    }
    var route = Route.parse(lease.route());
    switch (route.transport()) {
      case "smtp", "relay" -> {
        var target = bracketedNexthop(route.nexthop());
        if (target != null) {
          startJob(new Job(lease, f.content(), List.of(new Target(target.host(), target))));
        } else {
          // domain or domain:port: the MX hosts of the domain, each on that port (25 by default).
          int colon = route.nexthop().lastIndexOf(':');
          var domain = colon < 0 ? route.nexthop() : route.nexthop().substring(0, colon);
          int port = colon < 0 ? 25 : Integer.parseInt(route.nexthop().substring(colon + 1));
          var job = new Job(lease, f.content(), List.of());
          ctx.pipeToSelf(mx.resolve(domain), (result, failure) -> new Resolved(job, port,
              failure == null ? result : new MxResolver.Defer("4.4.3", "MX lookup for " + domain + " failed: " + failure)));
        }
      }
      case "local" -> deliverLocally(lease, f.content(), r -> local.deliver(f.content().sender(), r, f.content().content()));
      case "virtual" -> deliverLocally(lease, f.content(), r -> virtual.deliver(f.content().sender(), r, f.content().content()));
      case "error" -> finish(lease, lease.recipients().stream()
          .map(r -> new RecipientResult(r, Outcome.BOUNCED, "5.0.0", route.nexthop().isEmpty() ? "mail for this destination is refused" : route.nexthop(), "none"))
          .toList(), true);
      case "discard" -> finish(lease, lease.recipients().stream()
          .map(r -> new RecipientResult(r, Outcome.SENT, "2.0.0", "discarded" + (route.nexthop().isEmpty() ? "" : ": " + route.nexthop()), "none"))
          .toList(), true);
      default -> finish(lease, lease.recipients().stream()
          .map(r -> RecipientResult.deferred(r, "4.3.0", "mail transport unavailable: " + route.transport()))
          .toList(), true);
    }
    return this;
  }

  /**
   * Mailbox writes block (files, locks, fsync), so they run on the blocking dispatcher; an
   * alias that points elsewhere is queued as a new message from the same sender.
   */
  private void deliverLocally(NodeQueue.Lease lease, Message.Content content, Function<String, LocalResult> mailbox) {
    var blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    var results = CompletableFuture.supplyAsync(() -> lease.recipients().stream()
        .map(r -> localResult(r, content, mailbox.apply(r)))
        .toList(), blocking);
    ctx.pipeToSelf(results, (done, failure) -> new DeliveredLocally(lease, done != null ? done
        : lease.recipients().stream().map(r -> RecipientResult.deferred(r, "4.3.0", "local delivery failed: " + failure)).toList()));
  }

  private RecipientResult localResult(String recipient, Message.Content content, LocalResult result) {
    return switch (result) {
      case LocalResult.Delivered d -> new RecipientResult(recipient, Outcome.SENT, "2.0.0", d.detail(), "local");
      case LocalResult.Deferred d -> new RecipientResult(recipient, Outcome.DEFERRED, d.dsn(), d.reason(), "local");
      case LocalResult.Bounced b -> new RecipientResult(recipient, Outcome.BOUNCED, b.dsn(), b.reason(), "local");
      case LocalResult.Forwarded f -> {
        try {
          var id = submission.submit(content.sender(), f.addresses(), content.content()).toCompletableFuture().join();
          yield new RecipientResult(recipient, Outcome.SENT, "2.0.0", "forwarded as " + id + (f.detail().isEmpty() ? "" : "; " + f.detail()), "local");
        } catch (RuntimeException e) {
          yield new RecipientResult(recipient, Outcome.DEFERRED, "4.3.0", "cannot forward: " + e.getMessage(), "local");
        }
      }
    };
  }

  private Behavior<Command> onResolved(Resolved r) {
    var lease = r.job().lease();
    switch (r.result()) {
      case MxResolver.Hosts hosts -> startJob(new Job(lease, r.job().content(), hosts.hosts().stream()
          .flatMap(h -> h.addresses().stream().map(a -> new Target(h.name(), new HostPort(a.getHostAddress(), r.port()))))
          .toList()));
      case MxResolver.Bounce b -> finish(lease, lease.recipients().stream()
          .map(rcpt -> new RecipientResult(rcpt, Outcome.BOUNCED, b.dsn(), b.reason(), "none")).toList(), true);
      case MxResolver.Defer d -> finish(lease, lease.recipients().stream()
          .map(rcpt -> RecipientResult.deferred(rcpt, d.dsn(), d.reason())).toList(), true);
    }
    return this;
  }

  private void startJob(Job job) {
    var security = security(job);
    if (security == null) return;
    var endpoint = new Endpoint(job.lease().route(), security.key());
    var cached = idle.get(endpoint);
    if (cached != null && !cached.isEmpty()) {
      var connection = cached.pop();
      timers.cancel(connection);
      running.put(connection, job);
      connection.tell(new SmtpConnection.Run(job));
    } else {
      // An idle connection to another host of this destination gives its place to the new one.
      idle.entrySet().stream().filter(e -> e.getKey().route().equals(endpoint.route()) && !e.getValue().isEmpty())
          .findFirst().ifPresent(e -> retire(e.getValue().peekLast()));
      var waiting = awaitingClose.get(endpoint.route());
      if (closingTo(endpoint.route()) > (waiting == null ? 0 : waiting.size())) {
        // The queue may have counted a connection that is quitting as this lease's: the new one
        // opens when that one is gone, so the site never sees both at once. One job waits per
        // quitting connection; a job beyond those was not counted as one of them.
        awaitingClose.computeIfAbsent(endpoint.route(), r -> new ArrayDeque<>()).add(job);
        return;
      }
      var connection = ctx.spawnAnonymous(
          SmtpConnection.create(job.target(), config.myhostname(), loop, config.smtp(), security, ctx.getSelf(), job));
      // A Run sent to a cached connection that stopped meanwhile would be lost: its stop brings the job back.
      ctx.watchWith(connection, new ConnectionGone(connection));
      endpoints.put(connection, endpoint);
      running.put(connection, job);
    }
  }

  private Behavior<Command> onConnectionIdle(ConnectionIdle c) {
    var endpoint = endpoints.get(c.connection());
    if (endpoint == null) return this;
    if (leaving) {
      retireNow(c.connection());
      return this;
    }
    idle.computeIfAbsent(endpoint, e -> new ArrayDeque<>()).push(c.connection());
    timers.startSingleTimer(c.connection(), new CacheTimeUp(c.connection()), config.smtp().connectionCacheTimeLimit());
    return this;
  }

  /** An idle connection leaves the cache and quits; it counts for its destination until it is gone. */
  private void retire(ActorRef<SmtpConnection.Command> connection) {
    var endpoint = endpoints.get(connection);
    var cached = endpoint == null ? null : idle.get(endpoint);
    if (cached != null && cached.remove(connection)) retireNow(connection);
  }

  /** Closes idle connections to the destination until at most {@code keep} are open, idle or closing. */
  private void closeIdle(String route, int keep) {
    long surplus = Math.max(0, idleConnections(route) - keep);
    idle.entrySet().stream().filter(e -> e.getKey().route().equals(route)).flatMap(e -> e.getValue().stream())
        .limit(surplus).toList().forEach(this::retire);
  }

  private void retireNow(ActorRef<SmtpConnection.Command> connection) {
    timers.cancel(connection);
    closing.add(connection);
    connection.tell(new SmtpConnection.Quit());
  }

  private Behavior<Command> onConnectionGone(ConnectionGone c) {
    timers.cancel(c.connection());
    var endpoint = endpoints.remove(c.connection());
    var cached = endpoint == null ? null : idle.get(endpoint);
    boolean wasIdle = cached != null && cached.remove(c.connection());
    if (cached != null && cached.isEmpty()) idle.remove(endpoint);
    if ((closing.remove(c.connection()) || wasIdle) && endpoint != null) {
      queue.tell(new NodeQueue.ConnectionsIdle(endpoint.route(), idleConnections(endpoint.route())));
    }
    var unfinished = running.remove(c.connection());
    if (unfinished != null) startJob(unfinished);
    // Every job beyond the connections still quitting goes now (not one per connection gone:
    // the rest would wait for some later connection to close, an idle one's cache time).
    var waiting = endpoint == null ? null : awaitingClose.get(endpoint.route());
    while (waiting != null && waiting.size() > closingTo(endpoint.route())) {
      var next = waiting.poll();
      if (waiting.isEmpty()) awaitingClose.remove(endpoint.route());
      startJob(next);
    }
    return this;
  }

  /** Connections to the destination that were told to quit and are not gone yet. */
  private int closingTo(String route) {
    int n = 0;
    for (var c : closing) if (endpoints.containsKey(c) && endpoints.get(c).route().equals(route)) n++;
    return n;
  }

  /** Connections to the destination open at the site but carrying no lease: idle, or quitting. */
  private int idleConnections(String route) {
    int n = 0;
    for (var e : idle.entrySet()) if (e.getKey().route().equals(route)) n += e.getValue().size();
    return n + closingTo(route);
  }

  /**
   * The TLS policy and SASL login toward the job's host, from smtp_tls_policy_maps and
   * smtp_sasl_password_maps; null when a table entry is bad or a table cannot answer, and
   * then the job is deferred already (Postfix: "client TLS configuration problem").
   */
  private SmtpConnection.Security security(Job job) {
    var nexthop = Route.parse(job.lease().route()).nexthop();
    var target = job.target();
    SmtpTlsPolicy.Session session;
    try {
      session = tls.session(nexthop, target.name());
    } catch (IllegalArgumentException | LookupFailure e) {
      return deferMisconfigured(job, "4.7.5", "client TLS configuration problem", e);
    }
    SmtpClientProtocol.SaslLogin login;
    try {
      login = sasl.login(nexthop, target.name());
    } catch (IllegalArgumentException | LookupFailure e) {
      return deferMisconfigured(job, "4.7.0", "client SASL configuration problem", e);
    }
    var key = new ConnectionKey(target.address(), session.policy(), session.names(), login == null ? null : login.username());
    return new SmtpConnection.Security(session, login, sasl, key);
  }

  private SmtpConnection.Security deferMisconfigured(Job job, String dsn, String problem, RuntimeException why) {
    var lease = job.lease();
    log.warn("{}: {}: {}", Route.parse(lease.route()).nexthop(), problem, why.getMessage());
    finish(lease, lease.recipients().stream().map(r -> RecipientResult.deferred(r, dsn, problem)).toList(), true);
    return null;
  }

  private Behavior<Command> onJobDone(JobDone done) {
    running.entrySet().stream().filter(e -> e.getValue() == done.job()).map(Map.Entry::getKey).findFirst()
        .ifPresent(connection -> {
          running.remove(connection);
          // A session that failed closes next (SmtpConnection.failJob); until its socket is gone it
          // is still a connection at the site, so it counts, and a new one for this destination waits.
          if (!done.siteAnswered()) closing.add(connection);
        });
    if (!done.siteAnswered() && done.results().isEmpty() && done.job().hasNextTarget()) {
      startJob(done.job().nextTarget());
      return this;
    }
    var byRecipient = new HashMap<String, Reply>();
    done.results().forEach(r -> byRecipient.put(r.recipient().toString(), r.reply()));
    var results = done.job().lease().recipients().stream().map(r -> {
      var reply = byRecipient.get(r);
      if (reply == null) {
        var outcome = done.failureDsn().startsWith("5") ? Outcome.BOUNCED : Outcome.DEFERRED;
        return new RecipientResult(r, outcome, done.failureDsn(), done.failure(), done.relay());
      }
      var text = "host " + done.relay() + " said: " + reply.oneLine();
      var outcome = reply.positive() ? Outcome.SENT : reply.transientFailure() ? Outcome.DEFERRED : Outcome.BOUNCED;
      return new RecipientResult(r, outcome, dsnOf(reply), outcome == Outcome.SENT ? reply.oneLine() : text, done.relay());
    }).toList();
    finish(done.job().lease(), results, done.siteAnswered());
    return this;
  }

  /**
   * Results go to the Message entity, which records and logs them; once they are in its
   * journal the lease goes back to its queue. Were it back sooner, the entity (woken by the
   * queue run meanwhile, or just moved to another node) could hand the same recipients to
   * the queue again before it has recorded them, and they would be delivered twice.
   */
  private void finish(NodeQueue.Lease lease, List<RecipientResult> results, boolean siteAnswered) {
    results.forEach(r -> Metrics.delivery(r.outcome(), lease.route()));
    // The queue keeps a reason only for a site that did not answer (its dead-site verdict): no reply text crosses otherwise.
    var reason = siteAnswered || results.isEmpty() ? "" : results.get(0).reply();
    ctx.pipeToSelf(Asks.onAnsweringThread(message(lease).<Done>ask(replyTo -> new Message.RecordResults(results, replyTo), MESSAGE_TIMEOUT)),
        (done, failure) -> new Recorded(lease, siteAnswered, reason, failure));
  }

  private EntityRef<Message.Command> message(NodeQueue.Lease lease) {
    return sharding.entityRefFor(Message.ENTITY_TYPE_KEY, lease.queueId());
  }

  private Behavior<Command> onRecorded(Recorded r) {
    if (r.failure() != null) {
      log.warn("warning: {}: results not confirmed by the queue: {}", r.lease().queueId(), r.failure().getMessage());
    }
    leaseDone(r.lease(), r.siteAnswered(), r.reason());
    return this;
  }

  private void leaseDone(NodeQueue.Lease lease, boolean siteAnswered, String reason) {
    queue.tell(new NodeQueue.LeaseCompleted(lease.id(), lease.route(), siteAnswered, reason,
        idleConnections(lease.route())));
    inFlight.remove(lease.id());
    drainedIfIdle();
  }

  private Behavior<Command> drainedIfIdle() {
    if (inFlight.isEmpty() && !drainers.isEmpty()) {
      drainers.forEach(d -> d.tell(Done.getInstance()));
      drainers.clear();
    }
    return this;
  }

  /** {@code [host]:port} or {@code [host]} (port 25): a next hop that needs no MX lookup. */
  static HostPort bracketedNexthop(String nexthop) {
    if (!nexthop.startsWith("[")) return null;
    return nexthop.endsWith("]") ? new HostPort(nexthop.substring(1, nexthop.length() - 1), 25) : HostPort.parse(nexthop);
  }

  /** The enhanced status code, or one made from the reply class when the server gave none. */
  static String dsnOf(Reply reply) {
    return reply.enhanced().isEmpty() ? (reply.code() / 100) + ".0.0" : reply.enhanced();
  }

}

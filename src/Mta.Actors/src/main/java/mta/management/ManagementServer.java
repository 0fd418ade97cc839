package mta.management;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterList;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.withoutRequestTimeout;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import mta.config.MtaConfig;
import mta.queue.QueueDirectory;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management endpoint of a node, on {@code mta.management.listen}: our routes for the
 * queue, the configuration, sharding and metrics, and Pekko Management's for the cluster and
 * the health checks, all behind one {@link Access} check. The routes:
 *
 * <pre>
 * GET  /queue                          every message, one postqueue -j object per line
 * GET  /queue/shape[?queue=Q...]       qshape
 * GET  /queue/ID[?body=true]           one message (postcat)
 * POST /queue/ID|ALL/ACTION[?site=D]   hold, release, flush, requeue, delete (postsuper, postqueue)
 * GET  /config[?nondefault=true]       the mta settings with their origin (postconf [-n])
 * GET  /sharding, /sharding/TYPE       shards and entities per node
 * GET  /metrics                        Prometheus text format
 * GET  /cluster/members, /cluster/domain-events, /ready, /alive; PUT, DELETE /cluster/members/ADDR
 * </pre>
 */
public final class ManagementServer {
  private static final Logger log = LoggerFactory.getLogger("master");
  private static final ContentType NDJSON = MediaTypes.applicationWithFixedCharset("x-ndjson", HttpCharsets.UTF_8).toContentType();

  private final ActorSystem<?> system;
  private final QueueControl queue;
  private final Access access;
  private final List<ConfigEntry> settings;
  private final Duration timeout;
  private final Duration sampleInterval;
  private CompletableFuture<Void> sampling;
  private long sampledAt;

  private ManagementServer(ActorSystem<?> system, MtaConfig config) {
    var m = config.management();
    this.system = system;
    var journalDb = config.config().getConfig("pekko-persistence-jdbc.shared-databases.mta.db");
    this.queue = new QueueControl(system,
        new QueueDirectory(journalDb, system.dispatchers().lookup(DispatcherSelector.blocking())), m.parallelism(), m.askTimeout());
    this.access = new Access(m.token(), m.loopback());
    this.settings = ConfigEntry.of(config.config());
    this.timeout = m.askTimeout();
    this.sampleInterval = m.queueSampleInterval();
  }

  /** Binds the endpoint; a listen address that cannot be bound is logged, and the node runs on without it. */
  public static void start(ActorSystem<?> system, MtaConfig config) {
    var m = config.management();
    Metrics.limitDestinations(m.metricsDestinations());
    var cluster = PekkoManagement.get(system).getRoutes(s -> s.withReadOnly(false));
    Http.get(system).newServerAt(m.listen().host(), m.listen().port())
        .bind(new ManagementServer(system, config).routes(cluster))
        .whenComplete((binding, failure) -> {
          if (failure != null) {
            log.warn("warning: management endpoint {}: {}: mtactl and /metrics cannot reach this node", m.listen(), failure.getMessage());
            return;
          }
          log.info("management endpoint on http://{}{}", m.listen(), m.token().isPresent() ? "" : " (no token: open to local users)");
          CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "management-unbind",
              () -> binding.terminate(Duration.ofSeconds(3)).thenApply(t -> Done.getInstance()));
        });
  }

  private Route routes(Route cluster) {
    var all = all(cluster);
    return extractRequest(request -> {
      var authorization = request.getHeader("Authorization").map(HttpHeader::value);
      if (access.permits(request.method().value(), request.getUri().path(), authorization)) return all;
      log.warn("warning: management: {} {} refused: no valid token", request.method().value(), request.getUri().path());
      return complete(error(StatusCodes.UNAUTHORIZED, "this call needs the management token (mta.management.token)")
          .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"mta\"")));
    });
  }

  private Route all(Route cluster) {
    return concat(
        pathPrefix("queue", () -> withoutRequestTimeout(this::queue)),
        path("config", () -> get(() -> parameterOptional("nondefault", n -> complete(json(StatusCodes.OK,
            settings.stream().filter(e -> !n.map(Boolean::parseBoolean).orElse(false) || !e.isDefault()).toList()))))),
        pathPrefix("sharding", this::sharding),
        path("metrics", () -> get(this::metrics)),
        cluster);
  }

  private Route queue() {
    return concat(
        pathEnd(() -> get(() -> complete(HttpEntities.createChunked(NDJSON,
            queue.list().map(e -> ByteString.fromString(Json.write(e) + "\n")))))),
        path("shape", () -> get(() -> parameterList("queue", queues ->
            reply(queue.shape(queues).thenApply(s -> json(StatusCodes.OK, s)))))),
        path(segment(), id -> get(() -> parameterOptional("body", body ->
            reply(queue.show(id, body.map(Boolean::parseBoolean).orElse(false))
                .thenApply(v -> v.map(view -> json(StatusCodes.OK, view)).orElseGet(() -> noSuchMessage(id))))))),
        path(segment().slash(segment()), (target, word) -> post(() -> parameterOptional("site", site -> act(target, word, site)))));
  }

  private Route act(String target, String word, Optional<String> site) {
    QueueAction action;
    try {
      action = QueueAction.of(word);
    } catch (IllegalArgumentException e) {
      return complete(error(StatusCodes.NOT_FOUND, "no such action: " + word));
    }
    return reply(queue.apply(action, target, site).thenApply(n -> n
        .map(count -> json(StatusCodes.OK, new QueueAction.Result(action.word(), count)))
        .orElseGet(() -> noSuchMessage(target))));
  }

  private Route sharding() {
    return concat(
        pathEnd(() -> get(() -> {
          var all = ShardingStats.TYPES.keySet().stream().sorted()
              .map(t -> ShardingStats.ask(system, ShardingStats.TYPES.get(t), timeout).toCompletableFuture()).toList();
          return reply(CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
              .thenApply(x -> json(StatusCodes.OK, all.stream().map(CompletableFuture::join).toList())));
        })),
        path(segment(), type -> get(() -> Optional.ofNullable(ShardingStats.TYPES.get(type))
            .map(key -> reply(ShardingStats.ask(system, key, timeout).thenApply(s -> json(StatusCodes.OK, s))))
            .orElseGet(() -> complete(error(StatusCodes.NOT_FOUND,
                "no such entity type: " + type + " (" + String.join(", ", ShardingStats.TYPES.keySet()) + ")"))))));
  }

  private Route metrics() {
    Metrics.clusterState(Cluster.get(system).state());
    return completeWithFuture(sampleQueue().handle((x, failure) -> HttpResponse.create()
        .withEntity(ContentTypes.parse(Metrics.CONTENT_TYPE), Metrics.scrape())));
  }

  /** Queue sizes for /metrics: counted again when older than queue_sample_interval, one count at a time. */
  private synchronized CompletionStage<Void> sampleQueue() {
    if (sampling == null || (sampling.isDone() && System.nanoTime() - sampledAt > sampleInterval.toNanos())) {
      sampledAt = System.nanoTime();
      sampling = queue.sizes().thenAccept(Metrics::queueSizes).toCompletableFuture();
    }
    return sampling;
  }

  private static Route reply(CompletionStage<HttpResponse> response) {
    return completeWithFuture(response.exceptionally(e ->
        error(StatusCodes.INTERNAL_SERVER_ERROR, (e instanceof CompletionException && e.getCause() != null ? e.getCause() : e).getMessage())));
  }

  private static HttpResponse noSuchMessage(String id) {
    return error(StatusCodes.NOT_FOUND, "no such message: " + id);
  }

  private static HttpResponse json(StatusCode status, Object body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.write(body));
  }

  private static HttpResponse error(StatusCode status, String message) {
    return json(status, Map.of("error", message));
  }
}

package mta.management;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import mta.mail.Reply;
import mta.queue.RecipientResult;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;

/**
 * The node's counters and gauges, written on {@code /metrics} in Prometheus' text format.
 * Counting points anywhere in the node (smtpd, delivery, the queue entities) call the named
 * methods below from any thread; the management endpoint sets the gauges it samples (queue
 * sizes, cluster members) just before it writes them.
 *
 * <p>Label sets stay bounded: the first {@code metrics_destinations} destinations seen keep
 * their name and the rest count as {@code other} (a series cannot move once counted, so the
 * first seen, not the busiest, keep theirs: on a relay the busy ones come early); rejection
 * reasons are the reply code with its enhanced status, at most {@value #REASON_LIMIT} of them.
 */
public final class Metrics {
  static final String OTHER = "other";
  static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
  private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();
  private static final int REASON_LIMIT = 50;

  private static final PrometheusRegistry REGISTRY = new PrometheusRegistry();
  private static final Counter CONNECTIONS = Counter.builder().name("mta_smtpd_connections")
      .help("SMTP connections accepted").register(REGISTRY);
  private static final Gauge SESSIONS = Gauge.builder().name("mta_smtpd_sessions")
      .help("SMTP sessions under way").register(REGISTRY);
  private static final Counter ACCEPTED = Counter.builder().name("mta_messages_accepted")
      .help("Messages queued: 250 after the journal commit").register(REGISTRY);
  private static final Counter REJECTED = Counter.builder().name("mta_messages_rejected")
      .help("smtpd replies 4xx and 5xx, by reply code and enhanced status").labelNames("reason").register(REGISTRY);
  private static final Counter DELIVERIES = Counter.builder().name("mta_deliveries")
      .help("Recipient delivery attempts by outcome and destination (transport:nexthop)")
      .labelNames("status", "destination").register(REGISTRY);
  private static final Histogram JOURNAL_WRITE = Histogram.builder().name("mta_journal_write_seconds")
      .help("Journal writes of accepted messages, until the commit").classicOnly()
      .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10).register(REGISTRY);
  private static final Gauge WINDOWS = Gauge.builder().name("mta_destination_concurrency_window")
      .help("Deliveries a destination queue allows at once (queues on this node)").labelNames("destination").register(REGISTRY);
  private static final Gauge QUEUE = Gauge.builder().name("mta_queue_messages")
      .help("Messages in the cluster's queue, by Postfix queue (active, deferred, hold)").labelNames("queue").register(REGISTRY);
  private static final Gauge MEMBERS = Gauge.builder().name("mta_cluster_members")
      .help("Cluster members by status, as this node sees them").labelNames("status").register(REGISTRY);
  private static final Gauge UNREACHABLE = Gauge.builder().name("mta_cluster_unreachable_members")
      .help("Cluster members this node's failure detectors find unreachable").register(REGISTRY);

  private static final LabelLimit DESTINATIONS = new LabelLimit(20);
  private static final LabelLimit REASONS = new LabelLimit(REASON_LIMIT);

  private Metrics() {}

  /** smtpd: a connection was accepted and its session starts. */
  public static void smtpdConnection() {
    CONNECTIONS.inc();
    SESSIONS.inc();
  }

  /** smtpd: a session ended. */
  public static void smtpdDisconnection() {
    SESSIONS.dec();
  }

  /** smtpd: a message was queued (its Accepted event committed). */
  public static void accepted() {
    ACCEPTED.inc();
  }

  /** smtpd: a 4xx or 5xx reply went out. */
  public static void rejected(Reply reply) {
    var reason = reply.enhanced().isEmpty() ? Integer.toString(reply.code()) : reply.code() + " " + reply.enhanced();
    REJECTED.labelValues(REASONS.of(reason)).inc();
  }

  /** Delivery: one recipient's attempt ended so, at this route ({@code transport:nexthop}). */
  public static void delivery(RecipientResult.Outcome status, String destination) {
    DELIVERIES.labelValues(status.name().toLowerCase(Locale.ROOT), DESTINATIONS.of(destination)).inc();
  }

  /** The Message entity: how long the journal took to commit a message's Accepted event. */
  public static void journalWrite(long nanos) {
    JOURNAL_WRITE.observe(nanos / 1e9);
  }

  /** A destination queue's window changed; only destinations with a label of their own are shown. */
  public static void concurrencyWindow(String destination, int window) {
    var label = DESTINATIONS.of(destination);
    if (!label.equals(OTHER)) WINDOWS.labelValues(label).set(window);
  }

  static void limitDestinations(int limit) {
    DESTINATIONS.limit = limit;
  }

  /** Sets the queue size gauges: every queue name with its count. */
  static void queueSizes(Map<String, Long> sizes) {
    sizes.forEach((queue, n) -> QUEUE.labelValues(queue).set(n));
  }

  static void clusterState(CurrentClusterState state) {
    MEMBERS.clear();
    for (Member m : state.getMembers()) MEMBERS.labelValues(m.status().toString()).inc();
    UNREACHABLE.set(state.getUnreachable().size());
  }

  /** Everything, in the Prometheus text format ({@link #CONTENT_TYPE}). */
  static byte[] scrape() {
    var out = new ByteArrayOutputStream();
    try {
      WRITER.write(out, REGISTRY.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** At most {@code limit} distinct values keep their name, the first seen; the rest are {@link #OTHER}. */
  static final class LabelLimit {
    private final Set<String> named = ConcurrentHashMap.newKeySet();
    private volatile int limit;

    LabelLimit(int limit) {
      this.limit = limit;
    }

    String of(String value) {
      if (named.contains(value)) return value;
      synchronized (this) {
        if (named.size() < limit) {
          named.add(value);
          return value;
        }
      }
      return OTHER;
    }
  }
}

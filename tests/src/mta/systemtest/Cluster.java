package mta.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real cluster on loopback: one seed-only member ({@link NodeProcess#seedBuilder}, role
 * "seed") and N mail nodes ({@link NodeProcess}), all on the shared PostgreSQL journal in one
 * fresh schema, every JVM a process of its own.
 *
 * <p>Every member gets {@code pekko.cluster.seed-nodes = ["pekko://mta@127.0.0.1:SEEDPORT"]},
 * its own artery port, SMTP port and management port (so the sharding statistics can be asked,
 * {@link #regions(String)}), and a Split Brain Resolver decision after {@link #STABLE_AFTER}
 * instead of the shipped 10 s, so that a killed node is downed sooner. The failure detector
 * keeps Pekko's defaults.
 *
 * <p>{@link #close()} stops the mail nodes in parallel (SIGTERM, then kill -9), then the seed.
 */
public final class Cluster implements AutoCloseable {
  /** pekko.cluster.split-brain-resolver.stable-after in the tests (the product default is 10 s). */
  public static final String STABLE_AFTER = "5s";
  public static final Duration FORM_TIMEOUT = Duration.ofSeconds(90);

  private final Path dir;
  private final String schema;
  private final NodeProcess seed;
  private final List<NodeProcess> nodes;
  private final Map<NodeProcess, Integer> arteryPorts;
  private final Map<NodeProcess, Integer> managementPorts;

  private Cluster(Path dir, String schema, NodeProcess seed, List<NodeProcess> nodes,
      Map<NodeProcess, Integer> arteryPorts, Map<NodeProcess, Integer> managementPorts) {
    this.dir = dir;
    this.schema = schema;
    this.seed = seed;
    this.nodes = nodes;
    this.arteryPorts = arteryPorts;
    this.managementPorts = managementPorts;
  }

  /**
   * Starts the seed and {@code n} mail nodes named node1..nodeN in {@code dir}, in a fresh
   * PostgreSQL schema {@code schemaName}, and waits until every node is Up (as the seed sees
   * it) and listens on SMTP. {@code customize} adds settings to each node (relayhost, retry
   * times, concurrency); it runs once per node.
   */
  public static Cluster start(Path dir, String schemaName, int n, UnaryOperator<NodeProcess.Builder> customize) {
    String schema = Postgres.freshSchema(schemaName);
    String url = Postgres.url(schema);
    int seedPort = Ports.free();
    String seedAddress = "pekko://mta@127.0.0.1:" + seedPort;
    NodeProcess seed = NodeProcess.seedBuilder(dir.resolve("seed"), seedPort)
        .postgres(url)
        .set("pekko.cluster.seed-nodes", List.of(seedAddress))
        .set("pekko.cluster.split-brain-resolver.stable-after", STABLE_AFTER)
        .build();
    List<NodeProcess> nodes = new ArrayList<>();
    Map<NodeProcess, Integer> artery = new LinkedHashMap<>();
    Map<NodeProcess, Integer> management = new LinkedHashMap<>();
    Cluster cluster = new Cluster(dir, schema, seed, nodes, artery, management);
    try {
      seed.start();
      for (int i = 1; i <= n; i++) {
        int port = Ports.free();
        int mgmt = Ports.free();
        NodeProcess.Builder b = NodeProcess.builder("node" + i, dir.resolve("node" + i))
            .postgres(url)
            .set("pekko.remote.artery.canonical.port", port)
            .set("pekko.cluster.seed-nodes", List.of(seedAddress))
            .set("pekko.cluster.split-brain-resolver.stable-after", STABLE_AFTER)
            .set("mta.management.listen", "127.0.0.1:" + mgmt);
        NodeProcess node = customize.apply(b).build();
        nodes.add(node);
        artery.put(node, port);
        management.put(node, mgmt);
      }
      seed.awaitLog("seed node started", NodeProcess.READY_TIMEOUT);
      seed.awaitReady(NodeProcess.READY_TIMEOUT);
      // All nodes start at once, as a StatefulSet's pods do (each runs the idempotent DDL).
      nodes.forEach(NodeProcess::start);
      long deadline = System.nanoTime() + FORM_TIMEOUT.toNanos();
      for (NodeProcess node : nodes) {
        node.awaitReady(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        cluster.awaitUp(node, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      }
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  public List<NodeProcess> nodes() {
    return List.copyOf(nodes);
  }

  public NodeProcess node(int i) {
    return nodes.get(i);
  }

  public NodeProcess seed() {
    return seed;
  }

  public String schema() {
    return schema;
  }

  public Path dir() {
    return dir;
  }

  public int arteryPort(NodeProcess node) {
    return arteryPorts.get(node);
  }

  public int managementPort(NodeProcess node) {
    return managementPorts.get(node);
  }

  /** The node's cluster address, as Pekko prints it. */
  public String address(NodeProcess node) {
    return "pekko://mta@127.0.0.1:" + arteryPort(node);
  }

  /** The mail node at a cluster address ("pekko://mta@127.0.0.1:PORT"), or null. */
  public NodeProcess byAddress(String address) {
    for (NodeProcess n : nodes) {
      if (address.equals(address(n)) || address.endsWith(":" + arteryPort(n))) return n;
    }
    return null;
  }

  /** The mail node whose myhostname is {@code host} ("node2.test"), or null. */
  public NodeProcess byHostname(String host) {
    for (NodeProcess n : nodes) {
      if (host.equalsIgnoreCase(n.name() + ".test")) return n;
    }
    return null;
  }

  /** Waits until the seed logs the node as Up (the seed logs every member event). */
  public void awaitUp(NodeProcess node, Duration timeout) {
    seed.awaitLog("member up: " + Pattern.quote(address(node)) + "\\b", timeout);
  }

  /** Waits until the seed logs the node as removed from the cluster (left, or downed). */
  public void awaitRemoved(NodeProcess node, Duration timeout) {
    seed.awaitLog("member removed: " + Pattern.quote(address(node)) + "\\b", timeout);
  }

  /**
   * Where the shards of an entity type live, as one live node's management endpoint reports
   * it (GET /sharding/TYPE): for each region (a node), the shard ids it hosts.
   */
  public Map<NodeProcess, Set<String>> regions(String type) {
    return regions(type, false);
  }

  /** Like {@link #regions(String)}, but only shards that hold at least one entity. */
  public Map<NodeProcess, Set<String>> regionsWithEntities(String type) {
    return regions(type, true);
  }

  private Map<NodeProcess, Set<String>> regions(String type, boolean nonEmptyOnly) {
    String json = null;
    IOException last = null;
    for (NodeProcess n : nodes) {
      if (!n.isAlive()) continue;
      try {
        json = get(managementPort(n), "/sharding/" + type);
        break;
      } catch (IOException e) {
        last = e;
      }
    }
    if (json == null) throw new UncheckedIOException("no node answered /sharding/" + type, last);
    Map<NodeProcess, Set<String>> result = new LinkedHashMap<>();
    Matcher region = Pattern.compile("\"address\"\\s*:\\s*\"([^\"]+)\".*?\"entities_per_shard\"\\s*:\\s*\\{([^}]*)\\}",
        Pattern.DOTALL).matcher(json);
    while (region.find()) {
      NodeProcess node = byAddress(region.group(1));
      if (node == null) continue;
      Set<String> shards = new TreeSet<>();
      Matcher shard = Pattern.compile("\"([^\"]+)\"\\s*:\\s*(\\d+)").matcher(region.group(2));
      while (shard.find()) {
        if (!nonEmptyOnly || Integer.parseInt(shard.group(2)) > 0) shards.add(shard.group(1));
      }
      result.put(node, shards);
    }
    return result;
  }

  /**
   * The shard of an entity id with Pekko's default extractor (HashCodeMessageExtractor,
   * number-of-shards = 1000): {@code abs(id.hashCode) % 1000}.
   */
  public static String shardOf(String entityId) {
    return Integer.toString(Math.abs(entityId.hashCode()) % 1000);
  }

  private static String get(int port, String path) throws IOException {
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) throw new IOException("GET " + path + " on " + port + ": " + r.statusCode() + " " + r.body());
      return r.body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** Stops every mail node still running, in parallel (SIGTERM, kill -9 after 15 s), then the seed. */
  @Override
  public void close() {
    List<CompletableFuture<Void>> stops = new ArrayList<>();
    for (NodeProcess n : nodes) {
      if (n.isAlive()) stops.add(CompletableFuture.runAsync(() -> n.stop(Duration.ofSeconds(15))));
    }
    stops.forEach(f -> {
      try {
        f.join();
      } catch (RuntimeException e) {
        System.err.println("stopping a node: " + e);
      }
    });
    seed.stop(Duration.ofSeconds(15));
  }
}

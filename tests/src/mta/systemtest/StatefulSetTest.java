package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * deploy/k8s on one machine: three nodes started as the StatefulSet starts them (the
 * ConfigMap's mta.conf as it is; what Kubernetes injects, through the environment: pod names
 * mta-0..2, their address (127.0.0.1, distinct ports), the database of a per-test PostgreSQL
 * schema), the initContainer's `bin/mta schema` first, and Cluster Bootstrap finding the peers
 * through DNS: dnsmasq serves the headless service's SRV and A records, as cluster DNS would.
 * They must form one cluster and deliver; then mta-2 goes the way a scale-down takes it (SIGTERM,
 * then gone from DNS), and no message may be lost.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class StatefulSetTest extends SystemTestSupport {
  private static final String NAMESPACE = "mail";
  private static final String SERVICE = "mta-internal." + NAMESPACE + ".svc.cluster.local";
  private static final Duration FORM = Duration.ofSeconds(180);
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void threePodsBootstrapThroughDnsDeliverAndSurviveScaleDown() throws Exception {
    long t0 = System.nanoTime();
    String schema = Postgres.freshSchema("statefulset_test");
    SmtpSink sink = sink();

    // The ConfigMap's file as it is, plus what the pod's /etc/resolv.conf says in Kubernetes.
    int dnsPort = Dnsmasq.freeUdpAndTcpPort();
    Path conf = dir.resolve("etc-mta/mta.conf");
    Files.createDirectories(conf.getParent());
    Files.writeString(conf, Files.readString(NodeProcess.root().resolve("deploy/k8s/mta.conf"))
        + "\n# StatefulSetTest: the pod's resolver (/etc/resolv.conf in Kubernetes) is dnsmasq\n"
        + "pekko.io.dns.async-dns.nameservers = [\"127.0.0.1:" + dnsPort + "\"]\n");

    // The Secret mta-tls, as the kubelet mounts it: tls.crt and tls.key in one directory.
    Path tls = Files.createDirectories(dir.resolve("etc-mta/tls"));
    Path[] pair = TlsTest.certificate(tls, "mta-smtp." + NAMESPACE + ".svc.cluster.local");
    Files.move(pair[0], tls.resolve("tls.crt"));
    Files.move(pair[1], tls.resolve("tls.key"));

    Map<String, String> injected = Map.of(
        "MTA_TLS_DIR", tls.toString(),
        "POD_NAMESPACE", NAMESPACE,
        "MTA_DB_URL", Postgres.url(schema),
        "MTA_DB_USER", Postgres.USER,
        "MTA_DB_PASSWORD", "",
        "MTA_MANAGEMENT_TOKEN", "statefulset-test-token",
        "MTA_RELAYHOST", "[127.0.0.1]:" + sink.port());
    List<StatefulSetPod> pods = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      pods.add(closeLater(new StatefulSetPod("mta-" + i, dir.resolve("mta-" + i), conf, injected)));
    }
    Dnsmasq dns = closeLater(Dnsmasq.start(dir, dnsPort, "cluster.local", serviceRecords(pods)));

    // initContainer: explicit and idempotent.
    assertEquals(0, pods.get(0).schema(), () -> "bin/mta schema failed\n" + pods.get(0).tail());
    assertEquals(0, pods.get(1).schema(), () -> "bin/mta schema (again) failed\n" + pods.get(1).tail());
    assertTrue(Postgres.tableCount(schema) > 0, "bin/mta schema created no tables");

    // podManagementPolicy: Parallel
    pods.forEach(StatefulSetPod::start);
    for (StatefulSetPod p : pods) awaitMembers(p, 3, List.of(), FORM);
    assertTrue(dns.log().contains("_management._tcp." + SERVICE), "no SRV query reached dnsmasq:\n" + dns.log());
    System.out.printf("StatefulSetTest: three members Up after %ds%n", (System.nanoTime() - t0) / 1_000_000_000);

    // 100 messages, spread over the three pods as the SMTP Service spreads connections.
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 50; i++) ids.add(send(pods.get(i % 3), i));
    sink.awaitCount(50, DELIVERY);
    for (int i = 50; i < 100; i++) ids.add(send(pods.get(i % 3), i));

    // Scale-down to 2: the kubelet sends SIGTERM (after preStop), the endpoint leaves DNS.
    StatefulSetPod leaving = pods.get(2);
    long stopAt = System.nanoTime();
    leaving.terminate(Duration.ofSeconds(90));
    System.out.printf("StatefulSetTest: mta-2 left in %dms%n", (System.nanoTime() - stopAt) / 1_000_000);
    dns.close();
    dns = closeLater(Dnsmasq.start(dir, dnsPort, "cluster.local", serviceRecords(pods.subList(0, 2))));
    for (StatefulSetPod p : pods.subList(0, 2)) awaitMembers(p, 2, List.of(leaving), FORM);

    // Nothing lost: every Message-ID arrives (at-least-once: a duplicate is allowed, a gap is not).
    long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
    List<String> missing;
    do {
      String all = String.join("\n", sink.messages());
      missing = ids.stream().filter(id -> !all.contains("<" + id + ">")).toList();
      if (missing.isEmpty()) break;
      Ports.sleep(500);
    } while (System.nanoTime() < deadline);
    assertTrue(missing.isEmpty(), missing.size() + " of 100 messages never arrived, e.g. " + missing.subList(0, Math.min(5, missing.size()))
        + "\n" + pods.get(0).tail() + "\n" + pods.get(1).tail() + "\n" + leaving.tail());
    System.out.printf("StatefulSetTest: 100/100 delivered (%d dumps), %ds in all%n", sink.count(),
        (System.nanoTime() - t0) / 1_000_000_000);
  }

  private static String send(StatefulSetPod pod, int i) {
    String id = "sts-" + i + "." + UUID.randomUUID().toString().substring(0, 8) + "@systemtest.test";
    try (SmtpClient c = SmtpClient.connect(pod.smtpPort)) {
      var ehlo = c.ehlo("client.test");
      assertTrue(ehlo.lines().contains("STARTTLS"), () -> pod.name + " offers no STARTTLS with the mounted Secret: " + ehlo);
      var r = c.send("sender@client.test", List.of("user" + i + "@remote.test"),
          SmtpClient.message("sender@client.test", "user" + i + "@remote.test", id, "statefulset " + i, 200));
      assertEquals(250, r.code(), () -> pod.name + " refused message " + i + ": " + r);
    }
    return id;
  }

  /** Waits until {@code pod}'s /cluster/members lists {@code up} members Up and none of {@code gone}. */
  private static void awaitMembers(StatefulSetPod pod, int up, List<StatefulSetPod> gone, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String body = "";
    while (System.nanoTime() < deadline) {
      String now = members(pod);
      body = now;
      int n = count(now, "\"status\"\\s*:\\s*\"Up\"");
      boolean stillThere = gone.stream().anyMatch(g -> now.contains(":" + g.remotingPort + "\""));
      if (n == up && count(now, "\"node\"\\s*:") == up && !stillThere) return;
      if (!pod.isAlive()) break;
      Ports.sleep(500);
    }
    throw new AssertionError(pod.name + ": expected " + up + " members Up within " + timeout + ", /cluster/members says: "
        + body + "\n" + pod.tail());
  }

  private static String members(StatefulSetPod pod) {
    try {
      var req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pod.managementPort + "/cluster/members"))
          .timeout(Duration.ofSeconds(5)).GET().build();
      var res = http.send(req, HttpResponse.BodyHandlers.ofString());
      return res.statusCode() == 200 ? res.body() : "HTTP " + res.statusCode() + " " + res.body();
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int count(String s, String regex) {
    var m = Pattern.compile(regex).matcher(s);
    int n = 0;
    while (m.find()) n++;
    return n;
  }

  /**
   * Cluster DNS for the headless service mta-internal: per pod an A record
   * mta-N.mta-internal.NS.svc.cluster.local and an SRV record _management._tcp.mta-internal...
   * with the pod's management port, on a fixed loopback port so it can be restarted with fewer pods.
   */
  /** The headless service's records, as Kubernetes DNS would serve them for these pods. */
  static List<String> serviceRecords(List<StatefulSetPod> pods) {
    List<String> records = new ArrayList<>();
    for (StatefulSetPod p : pods) {
      String host = p.name + "." + SERVICE;
      records.add("--host-record=" + host + ",127.0.0.1");
      records.add("--srv-host=_management._tcp." + SERVICE + "," + host + "," + p.managementPort);
      records.add("--srv-host=_remoting._tcp." + SERVICE + "," + host + "," + p.remotingPort);
    }
    return records;
  }
}

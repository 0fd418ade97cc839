package mta.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * bin/mtactl, the real script in a process of its own, against a real node whose next hop is
 * dead, so the mail waits in the deferred queue: mtactl lists it with its reason (mailq and
 * postqueue -j), holds, releases and deletes it, shows the cluster (one member, Up) and the
 * settings the node's file changed, with that file; a change without the node's token is
 * refused; and an endpoint where nothing listens is exit status 3.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MtactlTest extends SystemTestSupport {
  private static final Duration MTACTL = Duration.ofSeconds(60);
  private static final Pattern MEMBER_UP = Pattern.compile("(?m)^pekko://mta@127\\.0\\.0\\.1:\\d+\\s+Up\\s");

  private static Exec.Result mtactl(String... args) {
    var command = new ArrayList<>(List.of("env", "MTA_NO_BUILD=1", "JAVA_HOME=" + System.getProperty("java.home"),
        NodeProcess.root().resolve("bin/mtactl").toString()));
    command.addAll(List.of(args));
    return Exec.run(command, MTACTL);
  }

  @Test
  void queueAndClusterThroughMtactl() throws IOException, InterruptedException {
    int deadHop = Ports.free();
    int management = Ports.free();
    var token = dir.resolve("management.token");
    Files.writeString(token, "t-" + UUID.randomUUID() + "\n");
    NodeProcess node = startNode(node("ctl").relayhost(deadHop)
        .set("mta.management.listen", "127.0.0.1:" + management)
        .set("mta.management.token_file", token.toString())
        .set("mta.message_size_limit", 20480000));
    Ports.awaitListening(management, Duration.ofSeconds(30));
    var url = "http://127.0.0.1:" + management;
    var withToken = List.of("--endpoint", url, "--token-file", token.toString());

    Swaks.Result sent = Swaks.to(node.smtpPort(), "later@remote.example").messageId(uniqueId("mtactl")).run();
    assertTrue(sent.accepted(), sent::toString);
    var id = sent.queueId();
    node.awaitLog(deliveryLine(id, "later@remote.example", null, "deferred"), DELIVERY);

    var list = mtactl("--endpoint", url, "queue", "list");
    assertTrue(list.ok(), list::toString);
    assertTrue(list.output().contains(id + " ") && list.output().contains("later@remote.example")
        && list.output().contains("Connection refused)") && list.output().contains("-- 0 Kbytes in 1 Request."), list::toString);
    var json = mtactl("--endpoint", url, "queue", "list", "--json");
    assertTrue(json.ok() && json.output().contains("\"queue_name\":\"deferred\",\"queue_id\":\"" + id + "\"")
        && json.output().contains("\"delay_reason\":\"connect to 127.0.0.1"), json::toString);
    var show = mtactl("--endpoint", url, "queue", "show", id);
    assertTrue(show.ok() && show.output().contains("*** ENVELOPE RECORDS deferred/" + id + " ***")
        && show.output().contains("status: deferred, next attempt"), show::toString);

    var refused = mtactl("--endpoint", url, "queue", "hold", id);
    assertEquals(1, refused.exitCode(), refused::toString);
    assertTrue(refused.output().contains("token"), refused::toString);
    assertFalse(mtactl("--endpoint", url, "queue", "list").output().contains(id + "!"), "the refused hold changed nothing");

    var hold = mtactl(args(withToken, "queue", "hold", id));
    assertTrue(hold.ok() && hold.output().contains("Placed on hold: 1 message"), hold::toString);
    assertTrue(mtactl("--endpoint", url, "queue", "list").output().contains(id + "!"), "a held message has ! after its id");
    var release = mtactl(args(withToken, "queue", "release", "ALL"));
    assertTrue(release.ok() && release.output().contains("Released from hold: 1 message"), release::toString);
    assertFalse(mtactl("--endpoint", url, "queue", "list").output().contains(id + "!"));

    var cluster = mtactl("--endpoint", url, "cluster", "show");
    assertTrue(cluster.ok(), cluster::toString);
    assertEquals(1, MEMBER_UP.matcher(cluster.output()).results().count(), cluster::toString);

    // No --endpoint: mtactl finds the node (and its token) in the node's own file.
    var config = mtactl("--config", node.configFile().toString(), "config", "show", "-n");
    assertTrue(config.ok(), config::toString);
    assertTrue(config.output().contains("message_size_limit = 20480000  # " + node.configFile() + ":"), config::toString);
    assertTrue(config.output().contains("relayhost = [127.0.0.1]:" + deadHop + "  # " + node.configFile() + ":"), config::toString);
    assertFalse(config.output().contains("smtpd_recipient_limit"), "the defaults are left out");

    var delete = mtactl(args(withToken, "queue", "delete", id));
    assertTrue(delete.ok() && delete.output().contains("Deleted: 1 message"), delete::toString);
    var empty = mtactl("--endpoint", url, "queue", "list");
    assertTrue(empty.ok() && empty.output().contains("Mail queue is empty"), empty::toString);

    var metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("mta_messages_accepted_total 1.0")
        && metrics.body().contains("mta_deliveries_total{destination=\"smtp:[127.0.0.1]:" + deadHop + "\",status=\"deferred\"}")
        && metrics.body().contains("mta_cluster_members{status=\"Up\"} 1.0"), metrics::body);
  }

  @Test
  void noNodeAtTheEndpointIsExitStatusThree() {
    var r = mtactl("--endpoint", "http://127.0.0.1:" + Ports.free(), "queue", "list");
    assertEquals(3, r.exitCode(), r::toString);
    assertTrue(r.output().contains("cannot reach the node at http://127.0.0.1:"), r::toString);
  }

  private static String[] args(List<String> options, String... command) {
    var all = new ArrayList<>(options);
    all.addAll(List.of(command));
    return all.toArray(String[]::new);
  }
}

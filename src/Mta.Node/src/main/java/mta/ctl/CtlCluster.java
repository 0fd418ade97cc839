package mta.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import mta.management.Json;
import mta.management.ShardingStats;

/**
 * The cluster commands, as Petabridge.Cmd's {@code cluster} offers them: members and leader,
 * leave and down, live membership events, and where the sharded entities live. They read
 * Pekko Management's cluster routes and our /sharding.
 */
final class CtlCluster {
  private CtlCluster() {}

  static void show(CtlClient client, PrintStream out, boolean json) {
    var members = client.get("/cluster/members");
    out.print(json ? members + "\n" : members(members));
  }

  static void leader(CtlClient client, PrintStream out, boolean json) {
    var leader = client.get("/cluster/members").path("leader").asText("");
    if (leader.isEmpty()) throw CtlError.node("the cluster has no leader now");
    out.println(json ? Json.write(Map.of("leader", leader)) : leader);
  }

  /** leave or down: the address as Pekko writes it, or without its protocol, or only host:port. */
  static void remove(CtlClient client, CtlArgs.ClusterRemove remove, PrintStream out, boolean json) {
    var node = member(client.get("/cluster/members"), remove.address());
    var answer = client.send("PUT", "/cluster/members/" + CtlClient.encode(node), Map.of("operation", remove.down() ? "Down" : "Leave"));
    out.println(json ? answer.toString() : answer.path("message").asText());
  }

  static void downUnreachable(CtlClient client, PrintStream out, boolean json) {
    var unreachable = nodes(client.get("/cluster/members").path("unreachable"));
    if (unreachable.isEmpty() && !json) out.println("no unreachable members");
    for (var node : unreachable) {
      var answer = client.send("PUT", "/cluster/members/" + CtlClient.encode(node), Map.of("operation", "Down"));
      out.println(json ? answer.toString() : answer.path("message").asText());
    }
  }

  /** Membership events as they happen (the current members first), until interrupted or {@code count} were shown. */
  static void tail(CtlClient client, OptionalInt count, PrintStream out, boolean json) {
    try (var lines = client.lines("/cluster/domain-events")) {
      // Heartbeats (every 10 seconds) have no data.
      var events = lines.filter(l -> l.startsWith("data:")).map(l -> l.substring(5).strip()).filter(d -> !d.isEmpty());
      (count.isPresent() ? events.limit(count.getAsInt()) : events).forEach(data -> {
        out.println(json ? data : event(Json.tree(data)));
        out.flush();
      });
    }
  }

  static void regions(CtlClient client, PrintStream out, boolean json) {
    var all = client.get("/sharding");
    if (json) {
      out.println(all);
      return;
    }
    var table = new CtlTable("TYPE", "NODES", "SHARDS", "ENTITIES");
    for (var node : all) {
      var stats = Json.read(node.toString(), ShardingStats.class);
      table.add(stats.type(), stats.regions().size(),
          stats.regions().stream().mapToInt(ShardingStats.Region::shards).sum(),
          stats.regions().stream().mapToInt(ShardingStats.Region::entities).sum());
    }
    out.print(table);
  }

  static void regionStats(CtlClient client, String type, PrintStream out, boolean json) {
    var stats = client.get("/sharding/" + type);
    out.print(json ? stats + "\n" : regionStats(Json.read(stats.toString(), ShardingStats.class)));
  }

  /** One line per member: address, status, roles, and whether it leads, is this node or is unreachable. */
  static String members(JsonNode m) {
    var unreachable = nodes(m.path("unreachable"));
    var table = new CtlTable("MEMBER", "STATUS", "ROLES", "");
    elements(m.path("members"))
        .sorted(Comparator.comparing(n -> n.path("node").asText()))
        .forEach(n -> {
          var node = n.path("node").asText();
          var notes = new ArrayList<String>();
          if (node.equals(m.path("leader").asText())) notes.add("leader");
          if (node.equals(m.path("selfNode").asText())) notes.add("this node");
          if (unreachable.contains(node)) notes.add("UNREACHABLE");
          table.add(node, n.path("status").asText(), String.join(",", roles(n)), String.join(", ", notes));
        });
    return table + "leader: " + m.path("leader").asText("none") + "\n"
        + "unreachable: " + (unreachable.isEmpty() ? "none" : String.join(", ", unreachable)) + "\n";
  }

  static String regionStats(ShardingStats stats) {
    var table = new CtlTable("NODE", "SHARDS", "ENTITIES");
    stats.regions().forEach(r -> table.add(r.address(), r.shards(), r.entities()));
    var failed = stats.regions().stream().flatMap(r -> r.failed().stream()).toList();
    return table + (failed.isEmpty() ? "" : "shards that did not answer: " + String.join(", ", failed) + "\n");
  }

  /** A membership event in a line: {@code MemberUp pekko://mta@10.0.0.1:25520 Up [mail]}. */
  static String event(JsonNode e) {
    var type = e.path("type").asText();
    var member = e.path("member");
    if (!member.isMissingNode()) {
      return type + " " + member.path("uniqueAddress").path("address").asText() + " " + member.path("status").asText() + " " + roles(member);
    }
    return type + (e.has("role") ? " role " + e.get("role").asText() : "") + " " + e.path("address").asText("none");
  }

  private static List<String> nodes(JsonNode array) {
    return elements(array).map(n -> n.path("node").asText()).toList();
  }

  private static List<String> roles(JsonNode member) {
    return elements(member.path("roles")).map(JsonNode::asText).sorted().toList();
  }

  private static Stream<JsonNode> elements(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false);
  }

  private static String member(JsonNode members, String address) {
    return nodes(members.path("members")).stream()
        .filter(n -> n.equals(address) || n.endsWith("://" + address) || n.endsWith("@" + address))
        .findFirst()
        .orElseThrow(() -> CtlError.node("no such member: " + address));
  }
}

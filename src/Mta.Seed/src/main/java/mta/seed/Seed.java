package mta.seed;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import mta.config.ConfigError;
import mta.config.MtaConfig;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code bin/mta seed --config FILE}: a cluster member that only helps others join (like
 * Akka.NET's Lighthouse), for sites without Kubernetes discovery. It reads the same HOCON
 * file as the mail nodes (its address is its {@code pekko.remote.artery.canonical.*}, and it
 * should be listed in {@code pekko.cluster.seed-nodes}), takes the role {@code seed}, so no
 * queue entity or singleton ever lives here, and logs membership changes.
 */
public final class Seed {
  private Seed() {}

  public static void main(String[] args) {
    System.setProperty("PID", Long.toString(ProcessHandle.current().pid()));
    if (args.length != 3 || !args[0].equals("seed") || !args[1].equals("--config")) {
      System.err.println("usage: mta seed --config FILE");
      System.exit(2);
    }
    MtaConfig config;
    try {
      config = MtaConfig.load(Optional.of(Path.of(args[2])));
    } catch (ConfigError e) {
      System.err.println("mta: fatal: " + e.getMessage());
      System.exit(2);
      return;
    }
    var seedConfig = ConfigFactory.empty()
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of("seed")))
        .withFallback(config.config());
    try {
      ActorSystem.create(guardian(), "mta", seedConfig);
    } catch (RuntimeException e) {
      System.err.println("mta: fatal: cannot start the seed node: " + e.getMessage());
      System.exit(1);
    }
  }

  private static Behavior<ClusterEvent.MemberEvent> guardian() {
    return Behaviors.setup(ctx -> {
      // Looked up here, not in a static field: the log pattern's PID must be set first.
      Logger log = LoggerFactory.getLogger("seed");
      var cluster = Cluster.get(ctx.getSystem());
      if (ctx.getSystem().settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberEvent.class));
      log.info("seed node started -- {}", cluster.selfMember().address());
      return Behaviors.receiveMessage(event -> {
        log.info("member {}: {} {}", event.getClass().getSimpleName().replace("Member", "").toLowerCase(),
            event.member().address(), event.member().getRoles());
        return Behaviors.same();
      });
    });
  }
}

package mta.node;

import java.nio.file.Path;
import java.util.Optional;
import mta.config.ConfigError;
import mta.config.MtaConfig;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * {@code bin/mta node [--config FILE]}: Postfix's master for one node. It reads and checks
 * the configuration, makes sure the journal's tables exist, and starts the actor system
 * named {@code mta} with the {@link Master} guardian. A configuration mistake stops it here
 * with a message naming the file and the key, and exit status 2.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.setProperty("PID", Long.toString(ProcessHandle.current().pid()));
    if (args.length == 0 || !(args[0].equals("node") || args[0].equals("schema"))) usage();
    Optional<Path> file = Optional.empty();
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) file = Optional.of(Path.of(args[++i]));
      else usage();
    }
    MtaConfig config;
    try {
      config = MtaConfig.load(file);
      Master.checkTables(config);
    } catch (ConfigError e) {
      System.err.println("mta: fatal: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (args[0].equals("schema")) schema(config);
    JournalSchema.ensure(config);
    try {
      ActorSystem.create(Master.create(config), "mta", config.config());
    } catch (RuntimeException e) {
      // The cluster port is taken, say: other threads would keep a half-started JVM alive.
      System.err.println("mta: fatal: cannot start the node: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * {@code bin/mta schema [--config FILE]}: creates the journal's tables (idempotent) and exits,
   * 0 when they are there, 1 when the database cannot be reached or refuses the DDL. A
   * deployment runs it as an explicit step before the nodes (deploy/k8s: an initContainer).
   */
  private static void schema(MtaConfig config) {
    var url = config.config().getString("pekko-persistence-jdbc.shared-databases.mta.db.url");
    try {
      JournalSchema.create(config);
      System.out.println("mta: schema: journal tables present (" + config.persistence().name().toLowerCase() + " " + url + ")");
      System.exit(0);
    } catch (java.sql.SQLException | RuntimeException e) {
      System.err.println("mta: schema: " + url + ": " + e.getMessage());
      System.exit(1);
    }
  }

  private static void usage() {
    System.err.println("usage: mta node [--config FILE] | mta schema [--config FILE]");
    System.exit(2);
  }
}

package mta.ctl;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Map;
import mta.ctl.CtlArgs.ClusterDownUnreachable;
import mta.ctl.CtlArgs.ClusterLeader;
import mta.ctl.CtlArgs.ClusterRemove;
import mta.ctl.CtlArgs.ClusterShow;
import mta.ctl.CtlArgs.ClusterTail;
import mta.ctl.CtlArgs.ConfigShow;
import mta.ctl.CtlArgs.Help;
import mta.ctl.CtlArgs.QueueAct;
import mta.ctl.CtlArgs.QueueList;
import mta.ctl.CtlArgs.QueueShape;
import mta.ctl.CtlArgs.QueueShow;
import mta.ctl.CtlArgs.RegionStats;
import mta.ctl.CtlArgs.ShardingRegions;

/** {@code bin/mtactl}: see the package's manual page. */
public final class Mtactl {
  static final String USAGE = """
      usage: mtactl [--endpoint URL] [--config FILE] [--token-file FILE] [--json] COMMAND
        cluster show | leader | leave ADDR | down ADDR | down-unreachable | tail [--count N]
        cluster sharding regions | region-stats Message|DestinationQueue
        queue list | show ID [--body] | flush [--site DOMAIN] | shape [active|deferred|hold ...]
        queue hold|release|requeue|delete ID|ALL
        config show [-n]
      exit status: 0 done, 1 the node answered with an error, 2 usage, 3 the node cannot be reached
      """;

  private Mtactl() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err, System.getenv()));
  }

  static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    try {
      var invocation = CtlArgs.parse(args);
      var client = CtlClient.of(invocation.options(), env);
      boolean json = invocation.options().json();
      switch (invocation.command()) {
        case Help h -> out.print(USAGE);
        case ClusterShow c -> CtlCluster.show(client, out, json);
        case ClusterLeader c -> CtlCluster.leader(client, out, json);
        case ClusterRemove c -> CtlCluster.remove(client, c, out, json);
        case ClusterDownUnreachable c -> CtlCluster.downUnreachable(client, out, json);
        case ClusterTail c -> CtlCluster.tail(client, c.count(), out, json);
        case ShardingRegions c -> CtlCluster.regions(client, out, json);
        case RegionStats c -> CtlCluster.regionStats(client, c.type(), out, json);
        case QueueList c -> CtlQueue.list(client, out, json);
        case QueueShow c -> CtlQueue.show(client, c, out, json);
        case QueueAct c -> CtlQueue.act(client, c, out, json);
        case QueueShape c -> CtlQueue.shape(client, c.queues(), out, json);
        case ConfigShow c -> CtlConfig.show(client, c.nonDefault(), out, json);
      }
      out.flush();
      return 0;
    } catch (CtlError e) {
      out.flush();
      err.println("mtactl: " + e.getMessage());
      if (e.exitCode() == CtlError.USAGE) err.print(USAGE);
      return e.exitCode();
    } catch (UncheckedIOException e) {
      // A streamed answer (queue list, cluster tail) that broke off half way.
      out.flush();
      err.println("mtactl: the answer from the node broke off: " + e.getCause().getMessage());
      return CtlError.NODE;
    }
  }
}

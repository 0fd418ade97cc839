package mta.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
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
import mta.management.QueueAction;
import org.junit.jupiter.api.Test;

class CtlArgsTest {
  @Test
  void optionsGoAnywhere() {
    var i = CtlArgs.parse("--endpoint", "10.0.0.5:8558", "queue", "list", "--json", "--token-file=/etc/mta/token");
    assertEquals(new QueueList(), i.command());
    assertEquals(new CtlArgs.Options(Optional.of(URI.create("http://10.0.0.5:8558")), Optional.empty(),
        Optional.of(Path.of("/etc/mta/token")), true), i.options());
    assertEquals(Optional.of(Path.of("node.conf")), CtlArgs.parse("cluster", "show", "--config", "node.conf").options().config());
    assertEquals(new ClusterShow(), CtlArgs.parse("cluster", "show").command());
  }

  @Test
  void eachCommandWithItsOwnOptions() {
    assertEquals(new QueueShow("4Xk9zB", true), CtlArgs.parse("queue", "show", "4Xk9zB", "--body").command());
    assertEquals(new QueueAct(QueueAction.FLUSH, "ALL", Optional.of("example.com")),
        CtlArgs.parse("queue", "flush", "--site", "example.com").command());
    assertEquals(new QueueAct(QueueAction.HOLD, "ALL", Optional.empty()), CtlArgs.parse("queue", "hold", "ALL").command());
    assertEquals(new QueueAct(QueueAction.REQUEUE, "4Xk9zB", Optional.empty()), CtlArgs.parse("queue", "requeue", "4Xk9zB").command());
    assertEquals(new QueueShape(List.of("deferred", "hold")), CtlArgs.parse("queue", "shape", "deferred", "hold").command());
    assertEquals(new ConfigShow(true), CtlArgs.parse("config", "show", "-n").command());
    assertEquals(new ClusterTail(OptionalInt.of(3)), CtlArgs.parse("cluster", "tail", "--count", "3").command());
    assertEquals(new ClusterRemove("10.0.0.7:25520", true), CtlArgs.parse("cluster", "down", "10.0.0.7:25520").command());
    assertEquals(new RegionStats("DestinationQueue"), CtlArgs.parse("cluster", "sharding", "region-stats", "DestinationQueue").command());
    assertEquals(new Help(), CtlArgs.parse().command());
    assertEquals(new Help(), CtlArgs.parse("queue", "list", "--help").command());
  }

  @Test
  void mistakesAreUsageErrors() {
    for (var args : List.of(
        List.of("queue"), List.of("queue", "frob"), List.of("frob"), List.of("queue", "hold"),
        List.of("queue", "list", "extra"), List.of("queue", "list", "--site", "x"), List.of("config", "show", "--body"),
        List.of("cluster", "tail", "--count", "0"), List.of("cluster", "tail", "--count", "many"),
        List.of("cluster", "sharding", "region-stats", "Mailbox"), List.of("queue", "shape", "incoming"),
        List.of("queue", "list", "--frobnicate"), List.of("--endpoint"), List.of("--endpoint", "ftp://x", "queue", "list"))) {
      var e = assertThrows(CtlError.class, () -> CtlArgs.parse(args.toArray(String[]::new)), args::toString);
      assertEquals(CtlError.USAGE, e.exitCode(), args::toString);
    }
    var e = assertThrows(CtlError.class, () -> CtlArgs.parse("queue", "frob"));
    assertTrue(e.getMessage().contains("queue frob"), e.getMessage());
  }
}

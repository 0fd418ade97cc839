package mta.ctl;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import mta.management.Json;
import mta.management.MessageView;
import mta.management.QueueAction;
import mta.management.QueueEntry;
import mta.management.QueueShape;

/**
 * The queue commands (mailq, postcat, postsuper, postqueue, qshape) and how they print: as
 * Postfix prints them, or as JSON with --json ({@code queue list --json} is postqueue -j).
 */
final class CtlQueue {
  private static final DateTimeFormatter ARRIVAL = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss", Locale.ENGLISH);
  private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ENGLISH);

  private CtlQueue() {}

  static void list(CtlClient client, PrintStream out, boolean json) {
    try (var lines = client.lines("/queue")) {
      if (json) {
        lines.forEach(out::println);
      } else {
        var mailq = new Mailq(out, ZoneId.systemDefault());
        lines.map(l -> Json.read(l, QueueEntry.class)).forEach(mailq::add);
        mailq.end();
      }
    }
  }

  static void show(CtlClient client, CtlArgs.QueueShow show, PrintStream out, boolean json) {
    var view = client.get("/queue/" + CtlClient.encode(show.queueId()) + (show.body() ? "?body=true" : ""));
    out.print(json ? view + "\n" : postcat(Json.read(view.toString(), MessageView.class), ZoneId.systemDefault()));
  }

  static void act(CtlClient client, CtlArgs.QueueAct act, PrintStream out, boolean json) {
    var path = "/queue/" + CtlClient.encode(act.target()) + "/" + act.action().word()
        + act.site().map(s -> "?site=" + CtlClient.encode(s)).orElse("");
    var result = client.send("POST", path, Map.of());
    out.println(json ? result.toString() : acted(Json.read(result.toString(), QueueAction.Result.class)));
  }

  static void shape(CtlClient client, List<String> queues, PrintStream out, boolean json) {
    var query = queues.stream().map(q -> "queue=" + CtlClient.encode(q)).collect(Collectors.joining("&"));
    var shape = client.get("/queue/shape" + (query.isEmpty() ? "" : "?" + query));
    out.print(json ? shape + "\n" : qshape(Json.read(shape.toString(), QueueShape.class)));
  }

  /**
   * mailq's listing, printed message by message as the listing comes: Postfix's long-id
   * layout, {@code *} after the id of a message in the active queue and {@code !} of one on
   * hold, a recipient's deferral reason above it when it differs from the one before, and the
   * size and count at the end.
   */
  static final class Mailq {
    private static final String LINE = "%-17s %8s %-19s %s%n";
    private static final String FIRST = "%-17s %8d %19.19s %s%n";
    private final PrintStream out;
    private final ZoneId zone;
    private long bytes;
    private long messages;

    Mailq(PrintStream out, ZoneId zone) {
      this.out = out;
      this.zone = zone;
    }

    void add(QueueEntry e) {
      out.print(messages++ == 0 ? String.format(LINE, "----Queue ID-----", "--Size--", "---Arrival Time----", "--Sender/Recipient------") : "\n");
      bytes += e.messageSize();
      var mark = switch (e.queueName()) {
        case QueueEntry.ACTIVE -> "*";
        case QueueEntry.HOLD -> "!";
        default -> "";
      };
      out.printf(FIRST, e.queueId() + mark, e.messageSize(), ARRIVAL.format(Instant.ofEpochSecond(e.arrivalTime()).atZone(zone)),
          e.sender().isEmpty() ? "MAILER-DAEMON" : e.sender());
      var lastReason = "";
      for (var r : e.recipients()) {
        var reason = r.delayReason();
        if (!reason.equals(lastReason)) {
          var shown = reason.isEmpty() ? "reason unavailable" : reason;
          out.println(" ".repeat(Math.max(0, 76 - shown.length())) + "(" + shown + ")");
          lastReason = reason;
        }
        out.printf(LINE, "", "", "", r.address());
      }
      out.flush();
    }

    void end() {
      out.println(messages == 0 ? "Mail queue is empty"
          : "\n-- " + bytes / 1024 + " Kbytes in " + messages + " Request" + (messages == 1 ? "" : "s") + ".");
    }
  }

  /** One message as postcat -q prints it: envelope records, then the content. */
  static String postcat(MessageView v, ZoneId zone) {
    var name = v.queueName() + "/" + v.queueId();
    var out = new StringBuilder("*** ENVELOPE RECORDS " + name + " ***\n")
        .append("message_size: ").append(v.messageSize()).append('\n')
        .append("message_arrival_time: ").append(asctime(v.arrivalTime(), zone)).append('\n')
        .append("sender: ").append(v.sender()).append('\n');
    for (var r : v.recipients()) {
      out.append("recipient: ").append(r.address()).append('\n')
          .append("    route: ").append(r.route()).append('\n')
          .append("    status: ").append(r.status())
          .append(r.status().equals("deferred") ? ", next attempt " + asctime(r.nextAttempt(), zone) : "").append('\n');
      if (!r.reason().isEmpty()) out.append("    reason: ").append(r.reason()).append('\n');
    }
    out.append("*** MESSAGE CONTENTS ").append(name).append(" ***\n").append(v.headers().replace("\r\n", "\n"));
    if (v.body() != null) out.append('\n').append(v.body().replace("\r\n", "\n"));
    return out.append("*** MESSAGE FILE END ").append(name).append(" ***\n").toString();
  }

  /** qshape's table: a domain per row, the total, then the age buckets in minutes. */
  static String qshape(QueueShape shape) {
    var heading = new ArrayList<>(List.of("", "T"));
    heading.addAll(shape.buckets());
    var table = new CtlTable(heading.toArray(String[]::new));
    for (var row : shape.rows()) {
      var cells = new ArrayList<Object>(List.of(row.domain(), row.total()));
      cells.addAll(row.counts());
      table.add(cells.toArray());
    }
    return table.toString();
  }

  /** postsuper's report: {@code Placed on hold: 2 messages}. */
  static String acted(QueueAction.Result result) {
    var done = QueueAction.of(result.action()).done();
    return Character.toUpperCase(done.charAt(0)) + done.substring(1) + ": " + result.messages()
        + " message" + (result.messages() == 1 ? "" : "s");
  }

  private static String asctime(long epochSecond, ZoneId zone) {
    return ASCTIME.format(Instant.ofEpochSecond(epochSecond).atZone(zone));
  }
}

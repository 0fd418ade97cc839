package mta.ctl;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import mta.management.QueueAction;
import mta.management.QueueEntry;
import mta.management.ShardingStats;

/**
 * mtactl's command line: the command's words, with options before, between or after them
 * ({@code --name VALUE} or {@code --name=VALUE}). Options every command takes:
 * {@code --endpoint}, {@code --config}, {@code --token-file}, {@code --json}; the others
 * belong to one command each and are refused elsewhere.
 */
final class CtlArgs {
  private static final Set<String> WITH_VALUE = Set.of("--endpoint", "--config", "--token-file", "--site", "--count");
  private static final Set<String> FLAGS = Set.of("--json", "--body", "-n", "--help", "-h");
  private static final Set<String> OWN = Set.of("--site", "--count", "--body", "-n");

  private CtlArgs() {}

  record Options(Optional<URI> endpoint, Optional<Path> config, Optional<Path> tokenFile, boolean json) {}

  record Invocation(Options options, Command command) {}

  sealed interface Command {}

  record Help() implements Command {}

  record ClusterShow() implements Command {}

  record ClusterLeader() implements Command {}

  /** {@code down}: false for leave. */
  record ClusterRemove(String address, boolean down) implements Command {}

  record ClusterDownUnreachable() implements Command {}

  record ClusterTail(OptionalInt count) implements Command {}

  record ShardingRegions() implements Command {}

  record RegionStats(String type) implements Command {}

  record QueueList() implements Command {}

  record QueueShow(String queueId, boolean body) implements Command {}

  /** An action on one message or on ALL, and for a flush of ALL the site it is narrowed to. */
  record QueueAct(QueueAction action, String target, Optional<String> site) implements Command {}

  record QueueShape(List<String> queues) implements Command {}

  record ConfigShow(boolean nonDefault) implements Command {}

  static Invocation parse(String... args) {
    var words = new ArrayDeque<String>();
    var values = new HashMap<String, String>();
    var flags = new HashSet<String>();
    for (int i = 0; i < args.length; i++) {
      var arg = args[i];
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0 && WITH_VALUE.contains(arg.substring(0, eq))) {
        values.put(arg.substring(0, eq), arg.substring(eq + 1));
      } else if (WITH_VALUE.contains(arg)) {
        if (++i == args.length) throw CtlError.usage(arg + " needs a value");
        values.put(arg, args[i]);
      } else if (FLAGS.contains(arg)) {
        flags.add(arg);
      } else if (arg.startsWith("-") && arg.length() > 1) {
        throw CtlError.usage("unknown option " + arg);
      } else {
        words.add(arg);
      }
    }
    var options = new Options(Optional.ofNullable(values.get("--endpoint")).map(CtlArgs::endpoint),
        Optional.ofNullable(values.get("--config")).map(Path::of),
        Optional.ofNullable(values.get("--token-file")).map(Path::of), flags.contains("--json"));
    if (flags.contains("--help") || flags.contains("-h") || words.isEmpty()) return new Invocation(options, new Help());
    return new Invocation(options, new Words(words, values, flags).command());
  }

  private static URI endpoint(String text) {
    try {
      var uri = URI.create(text.contains("://") ? text : "http://" + text);
      if (uri.getHost() == null || !List.of("http", "https").contains(uri.getScheme())) throw new IllegalArgumentException();
      return uri;
    } catch (IllegalArgumentException e) {
      throw CtlError.usage("--endpoint: not an http URL: " + text);
    }
  }

  /** The words still to read, and the options given, to be claimed by the command. */
  private record Words(Deque<String> words, Map<String, String> values, Set<String> flags) {

    Command command() {
      var word = next("a command");
      return switch (word) {
        case "cluster" -> cluster(next("a cluster command"));
        case "queue" -> queue(next("a queue command"));
        case "config" -> switch (next("a config command")) {
          case "show" -> end(new ConfigShow(flags.contains("-n")), "-n");
          case String other -> throw unknown("config " + other);
        };
        case "help" -> end(new Help());
        default -> throw unknown(word);
      };
    }

    private Command cluster(String verb) {
      return switch (verb) {
        case "show" -> end(new ClusterShow());
        case "leader" -> end(new ClusterLeader());
        case "leave" -> end(new ClusterRemove(next("the member's address"), false));
        case "down" -> end(new ClusterRemove(next("the member's address"), true));
        case "down-unreachable" -> end(new ClusterDownUnreachable());
        case "tail" -> end(new ClusterTail(count()), "--count");
        case "sharding" -> switch (next("regions or region-stats")) {
          case "regions" -> end(new ShardingRegions());
          case "region-stats" -> end(new RegionStats(entityType(next("the entity type"))));
          case String other -> throw unknown("cluster sharding " + other);
        };
        default -> throw unknown("cluster " + verb);
      };
    }

    private Command queue(String verb) {
      return switch (verb) {
        case "list" -> end(new QueueList());
        case "show" -> end(new QueueShow(next("the queue id"), flags.contains("--body")), "--body");
        case "flush" -> end(new QueueAct(QueueAction.FLUSH, "ALL", Optional.ofNullable(values.get("--site"))), "--site");
        case "hold", "release", "requeue", "delete" ->
            end(new QueueAct(QueueAction.of(verb), next("a queue id or ALL"), Optional.empty()));
        case "shape" -> end(new QueueShape(queues()));
        default -> throw unknown("queue " + verb);
      };
    }

    private String next(String what) {
      if (words.isEmpty()) throw CtlError.usage("missing " + what);
      return words.removeFirst();
    }

    private static CtlError unknown(String command) {
      return CtlError.usage("unknown command: " + command);
    }

    /** The command, once no word is left over and no option of another command was given. */
    private Command end(Command command, String... own) {
      if (!words.isEmpty()) throw CtlError.usage("unexpected " + String.join(" ", words));
      var allowed = Set.of(own);
      OWN.stream().filter(o -> (values.containsKey(o) || flags.contains(o)) && !allowed.contains(o)).findFirst()
          .ifPresent(o -> { throw CtlError.usage(o + " does not go with this command"); });
      return command;
    }

    private OptionalInt count() {
      var text = values.get("--count");
      if (text == null) return OptionalInt.empty();
      try {
        int n = Integer.parseInt(text);
        if (n > 0) return OptionalInt.of(n);
      } catch (NumberFormatException e) {
        // said below
      }
      throw CtlError.usage("--count: not a positive number: " + text);
    }

    private List<String> queues() {
      var queues = List.copyOf(words);
      words.clear();
      queues.stream().filter(q -> !QueueEntry.QUEUES.contains(q)).findFirst().ifPresent(q -> {
        throw CtlError.usage("no such queue: " + q + " (" + String.join(", ", QueueEntry.QUEUES) + ")");
      });
      return queues;
    }

    private static String entityType(String type) {
      if (!ShardingStats.TYPES.containsKey(type)) {
        throw CtlError.usage("no such entity type: " + type + " (" + String.join(" or ", ShardingStats.TYPES.keySet().stream().sorted().toList()) + ")");
      }
      return type;
    }
  }
}

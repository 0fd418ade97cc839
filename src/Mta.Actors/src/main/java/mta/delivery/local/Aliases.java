package mta.delivery.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import mta.mail.MailAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An aliases(5) table and its expansion, as Postfix's local delivery agent uses it.
 *
 * <p>Format: {@code name: value, value, ...}. A line that starts with white space continues
 * the one before; empty lines and lines whose first non-blank character is {@code #} are
 * ignored. The name may be quoted and is folded to lower case. A value is an address
 * ({@code bob}, {@code bob@example.com}), {@code /file/name} (appended to, Maildir when it
 * ends in {@code /}), {@code "|command"}, or {@code :include:/file/name} (a file of further
 * values, read when expanding). A value with commas or blanks is quoted. A malformed line is
 * logged and skipped, and of two entries for one name the first counts, as with postalias.
 *
 * <p>Expansion ({@link #expand}) follows addresses in a local domain through the table until
 * they name no alias; each name is expanded once, so an alias that names itself
 * ({@code bob: bob, bob@elsewhere}) or a loop ({@code a: b}, {@code b: a}) ends at the
 * mailbox of the name seen again. With a recipient delimiter, {@code bob+lists} falls back
 * to the entry for {@code bob}.
 */
public final class Aliases {
  private static final Logger log = LoggerFactory.getLogger("local");

  /** One value of an alias entry. */
  public sealed interface Target {
    record Address(String address) implements Target {}

    record File(String path) implements Target {}

    record Command(String command) implements Target {}

    record Include(Path path) implements Target {}
  }

  /**
   * Where an alias leads: local user names (lower case, without extension) whose mailboxes
   * get the mail, addresses elsewhere to forward to, files to append to, and commands.
   */
  public record Expansion(List<String> users, List<String> forwards, List<String> files, List<String> commands) {
    public Expansion {
      users = List.copyOf(users);
      forwards = List.copyOf(forwards);
      files = List.copyOf(files);
      commands = List.copyOf(commands);
    }
  }

  private final Map<String, List<Target>> entries;

  private Aliases(Map<String, List<Target>> entries) {
    this.entries = Collections.unmodifiableMap(entries);
  }

  /** No aliases at all: every name is its own mailbox. */
  public static Aliases empty() {
    return new Aliases(Map.of());
  }

  /** Reads an aliases(5) file (alias_maps = hash:/etc/aliases reads /etc/aliases). */
  public static Aliases read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /** Parses aliases(5) text; {@code origin} names it in warnings. */
  public static Aliases parse(String text, String origin) {
    var entries = new LinkedHashMap<String, List<Target>>();
    for (var line : logicalLines(text)) {
      int colon = nameEnd(line.text());
      if (colon < 0) {
        log.warn("{}, line {}: need name:value pair", origin, line.number());
        continue;
      }
      var name = unquote(line.text().substring(0, colon).strip()).toLowerCase(Locale.ROOT);
      var targets = values(line.text().substring(colon + 1));
      if (name.isEmpty() || targets.isEmpty()) {
        log.warn("{}, line {}: empty name or value", origin, line.number());
      } else if (entries.putIfAbsent(name, targets) != null) {
        log.warn("{}, line {}: duplicate entry: \"{}\"", origin, line.number(), name);
      }
    }
    return new Aliases(entries);
  }

  /** The entry for a name (any case), if there is one. */
  public Optional<List<Target>> lookup(String name) {
    return Optional.ofNullable(entries.get(name.toLowerCase(Locale.ROOT)));
  }

  /**
   * Expands the local part of a recipient.
   *
   * @param localPart the recipient's local part
   * @param localDomains domains whose addresses are expanded further and delivered here
   *     (mydestination); addresses in other domains are forwarded
   * @param recipientDelimiter recipient_delimiter, e.g. {@code +}; empty for none
   * @throws IOException when an {@code :include:} file cannot be read
   */
  public Expansion expand(String localPart, Set<String> localDomains, String recipientDelimiter) throws IOException {
    var walk = new Walk(localDomains, recipientDelimiter);
    walk.name(localPart.toLowerCase(Locale.ROOT));
    return new Expansion(List.copyOf(walk.users), List.copyOf(walk.forwards), List.copyOf(walk.files), List.copyOf(walk.commands));
  }

  /** One expansion's state: what was found, and what was expanded already. */
  private final class Walk {
    final Set<String> localDomains;
    final String delimiter;
    final Set<String> users = new LinkedHashSet<>();
    final Set<String> forwards = new LinkedHashSet<>();
    final Set<String> files = new LinkedHashSet<>();
    final Set<String> commands = new LinkedHashSet<>();
    final Set<String> expanded = new HashSet<>();
    final Set<Path> included = new HashSet<>();

    Walk(Set<String> localDomains, String delimiter) {
      this.localDomains = localDomains.stream().map(MailAddress::normalizeDomain).collect(Collectors.toSet());
      this.delimiter = delimiter;
    }

    void name(String name) throws IOException {
      var base = baseName(name);
      var entry = entries.containsKey(name) ? name : base;
      var targets = entries.get(entry);
      if (targets == null || !expanded.add(entry)) {
        users.add(base);
        return;
      }
      for (var target : targets) target(target);
    }

    void target(Target target) throws IOException {
      switch (target) {
        case Target.Address a -> {
          var address = MailAddress.parse(a.address());
          if (address.domain().isEmpty() || localDomains.contains(address.domain())) name(address.localPart().toLowerCase(Locale.ROOT));
          else forwards.add(address.toString());
        }
        case Target.File f -> files.add(f.path());
        case Target.Command c -> commands.add(c.command());
        case Target.Include i -> {
          if (included.add(i.path().toAbsolutePath().normalize())) {
            for (var line : logicalLines(Files.readString(i.path(), StandardCharsets.UTF_8))) {
              for (var t : values(line.text())) target(t);
            }
          }
        }
      }
    }

    private String baseName(String name) {
      if (delimiter.isEmpty()) return name;
      int at = name.indexOf(delimiter);
      return at > 0 ? name.substring(0, at) : name;
    }
  }

  // --- the file format ------------------------------------------------------------------

  private record Line(int number, String text) {}

  /** Continuation lines joined, comments and empty lines dropped; numbered by their first line. */
  private static List<Line> logicalLines(String text) {
    var lines = new ArrayList<Line>();
    int number = 0;
    for (var raw : text.split("\r?\n", -1)) {
      number++;
      var stripped = raw.strip();
      if (stripped.isEmpty() || stripped.startsWith("#")) continue;
      if (Character.isWhitespace(raw.charAt(0)) && !lines.isEmpty()) {
        var last = lines.remove(lines.size() - 1);
        lines.add(new Line(last.number(), last.text() + " " + stripped));
      } else {
        lines.add(new Line(number, raw.strip()));
      }
    }
    return lines;
  }

  /** The index of the colon that ends the name, outside quotes; -1 if there is none. */
  private static int nameEnd(String line) {
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') quoted = !quoted;
      else if (c == ':' && !quoted) return i;
    }
    return -1;
  }

  /** The comma-separated values of an entry (commas inside quotes do not separate). */
  private static List<Target> values(String text) {
    var targets = new ArrayList<Target>();
    var value = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : ',';
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) {
        var v = unquote(value.toString().strip());
        if (!v.isEmpty()) targets.add(target(v));
        value.setLength(0);
      } else {
        value.append(c);
      }
    }
    return targets;
  }

  private static Target target(String value) {
    if (value.startsWith("|")) return new Target.Command(value.substring(1).strip());
    if (value.regionMatches(true, 0, ":include:", 0, 9)) return new Target.Include(Path.of(value.substring(9).strip()));
    if (value.startsWith("/")) return new Target.File(value);
    var address = value.startsWith("<") && value.endsWith(">") ? value.substring(1, value.length() - 1) : value;
    return new Target.Address(address);
  }

  private static String unquote(String s) {
    return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
  }
}

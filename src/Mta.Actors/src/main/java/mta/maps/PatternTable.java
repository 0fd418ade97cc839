package mta.maps;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code regexp:}, {@code pcre:} and {@code cidr:} tables: patterns tried in file order, the
 * first match wins. A line is {@code pattern result}, {@code if pattern}, or {@code endif};
 * the rules between {@code if} and {@code endif} are tried only when the {@code if} pattern
 * matches. {@code !pattern} matches what the pattern does not.
 *
 * <p>{@code regexp:} and {@code pcre:} patterns are Java regular expressions between a pair
 * of delimiters ({@code /pattern/flags}, any non-alphanumeric delimiter), searched for anywhere
 * in the key. Matching ignores case unless the {@code i} flag toggles it; {@code m}
 * (multi-line), {@code s} (dot matches newline), {@code x} (extended, pcre only) and
 * {@code A} (anchored, pcre only) work as in Postfix; flags Java lacks are refused. In the
 * result, {@code $1}, {@code ${1}} and {@code $(1)} stand for what a group matched and
 * {@code $$} for a dollar sign.
 *
 * <p>{@code cidr:} patterns are networks ({@code 192.0.2.0/24}, {@code [2001:db8::]/32}) or
 * single addresses, matched against a key that is an IP address.
 */
final class PatternTable implements LookupTable {

  enum Syntax { REGEXP, PCRE, CIDR }

  /** A pattern as a table line has it: what it makes of a key, or null when it does not match. */
  private interface Condition {
    UnaryOperator<String> match(String key);
  }

  private record Regex(Pattern regex, boolean negated) implements Condition {
    @Override
    public UnaryOperator<String> match(String key) {
      Matcher m = regex.matcher(key);
      boolean found = m.find();
      if (negated) return found ? null : UnaryOperator.identity();
      return found ? result -> substitute(result, n -> m.group(n) == null ? "" : m.group(n)) : null;
    }
  }

  private record Network(Cidr network, boolean negated) implements Condition {
    @Override
    public UnaryOperator<String> match(String key) {
      var address = Cidr.address(key.startsWith("[") && key.endsWith("]") ? key.substring(1, key.length() - 1) : key);
      boolean in = address != null && network.matches(address);
      return in != negated ? UnaryOperator.identity() : null;
    }
  }

  private sealed interface Entry {}

  private record Rule(Condition pattern, String result) implements Entry {}

  /** @param endif the index of the matching {@code endif}, where a failed test continues */
  private record If(Condition pattern, int endif) implements Entry {}

  private record Endif() implements Entry {}

  private final String name;
  private final Syntax syntax;
  private final TableFile<List<Entry>> file;

  PatternTable(String name, Path path, Syntax syntax) {
    this.name = name;
    this.syntax = syntax;
    this.file = new TableFile<>(name, path, this::parse);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean fixed() {
    return false;
  }

  @Override
  public Optional<String> get(String key) {
    var entries = file.current();
    for (int i = 0; i < entries.size(); i++) {
      switch (entries.get(i)) {
        case If(var pattern, var endif) -> {
          if (pattern.match(key) == null) i = endif;
        }
        case Rule(var pattern, var result) -> {
          var matched = pattern.match(key);
          if (matched != null) return Optional.of(matched.apply(result));
        }
        case Endif() -> { }
      }
    }
    return Optional.empty();
  }

  // --- parsing ------------------------------------------------------------------------------

  /** A pattern as written, and the text after it. */
  private record Parsed(Condition pattern, int groups, String rest) {}

  private List<Entry> parse(List<TableFile.Line> lines) {
    var entries = new ArrayList<Entry>();
    var open = new ArrayDeque<Integer>();
    for (var line : lines) {
      var text = line.text();
      if (text.equalsIgnoreCase("endif")) {
        if (open.isEmpty()) throw line.error("ignoring ENDIF without matching IF");
        int at = open.pop();
        entries.set(at, new If(((If) entries.get(at)).pattern(), entries.size()));
        entries.add(new Endif());
      } else if (text.length() > 2 && text.regionMatches(true, 0, "if", 0, 2) && Character.isWhitespace(text.charAt(2))) {
        var parsed = pattern(line, text.substring(2).strip());
        if (!parsed.rest().isEmpty()) throw line.error("ignoring extra text after IF pattern: '" + parsed.rest() + "'");
        open.push(entries.size());
        entries.add(new If(parsed.pattern(), -1));
      } else {
        var parsed = pattern(line, text);
        if (parsed.rest().isEmpty()) throw line.error("no replacement text: using empty string is not allowed");
        try {
          substitute(parsed.rest(), n -> {
            if (n > parsed.groups()) throw new IllegalArgumentException("out of range substitution $" + n);
            return "";
          });
        } catch (IllegalArgumentException e) {
          throw line.error(e.getMessage());
        }
        entries.add(new Rule(parsed.pattern(), parsed.rest()));
      }
    }
    if (!open.isEmpty()) throw lines.getLast().error("IF has no matching ENDIF");
    return List.copyOf(entries);
  }

  private Parsed pattern(TableFile.Line line, String text) {
    boolean negated = text.startsWith("!");
    var body = negated ? text.substring(1).stripLeading() : text;
    if (body.isEmpty()) throw line.error("missing pattern");
    return syntax == Syntax.CIDR ? network(line, body, negated) : regex(line, body, negated);
  }

  private static Parsed network(TableFile.Line line, String text, boolean negated) {
    var parts = text.split("\\s+", 2);
    try {
      return new Parsed(new Network(Cidr.parse(parts[0]), negated), 0, parts.length > 1 ? parts[1] : "");
    } catch (IllegalArgumentException e) {
      throw line.error(e.getMessage());
    }
  }

  private Parsed regex(TableFile.Line line, String text, boolean negated) {
    char delimiter = text.charAt(0);
    if (Character.isLetterOrDigit(delimiter)) throw line.error("regular expression must start with a delimiter such as '/': " + text);
    int end = 1;
    while (end < text.length() && text.charAt(end) != delimiter) end += text.charAt(end) == '\\' ? 2 : 1;
    if (end >= text.length()) throw line.error("missing closing delimiter '" + delimiter + "' in: " + text);
    int flagsEnd = end + 1;
    while (flagsEnd < text.length() && !Character.isWhitespace(text.charAt(flagsEnd))) flagsEnd++;
    var source = text.substring(1, end);
    int options = Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
    for (char flag : text.substring(end + 1, flagsEnd).toCharArray()) {
      options ^= switch (flag) {
        case 'i' -> Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
        case 'm' -> Pattern.MULTILINE;
        case 's' -> Pattern.DOTALL;
        case 'x' -> {
          if (syntax == Syntax.REGEXP) throw line.error("flag 'x' (basic regular expressions) is not supported: use extended syntax");
          yield Pattern.COMMENTS;
        }
        case 'A' -> {
          if (syntax == Syntax.REGEXP) throw line.error("unknown regexp option 'A'");
          source = "\\A(?:" + source + ")";
          yield 0;
        }
        default -> throw line.error("unknown or unsupported " + syntax.name().toLowerCase() + " option '" + flag + "'");
      };
    }
    try {
      var regex = Pattern.compile(source, options);
      int groups = negated ? 0 : regex.matcher("").groupCount();
      return new Parsed(new Regex(regex, negated), groups, text.substring(flagsEnd).strip());
    } catch (PatternSyntaxException e) {
      throw line.error("bad regular expression: " + e.getDescription() + " near index " + e.getIndex() + " in " + source);
    }
  }

  /**
   * Expands {@code $n}, {@code ${n}}, {@code $(n)} and {@code $$} in a result.
   *
   * @throws IllegalArgumentException for a {@code $} that introduces none of these
   */
  static String substitute(String template, IntFunction<String> group) {
    var out = new StringBuilder();
    for (int i = 0; i < template.length(); i++) {
      char c = template.charAt(i);
      if (c != '$') {
        out.append(c);
        continue;
      }
      if (i + 1 < template.length() && template.charAt(i + 1) == '$') {
        out.append('$');
        i++;
        continue;
      }
      int start = i + 1;
      char close = 0;
      if (start < template.length() && (template.charAt(start) == '{' || template.charAt(start) == '(')) {
        close = template.charAt(start) == '{' ? '}' : ')';
        start++;
      }
      int end = start;
      while (end < template.length() && Character.isDigit(template.charAt(end))) end++;
      if (end == start || (close != 0 && (end >= template.length() || template.charAt(end) != close))) {
        throw new IllegalArgumentException("bad $ substitution in '" + template + "'");
      }
      out.append(group.apply(Integer.parseInt(template.substring(start, end))));
      i = close != 0 ? end : end - 1;
    }
    return out.toString();
  }
}

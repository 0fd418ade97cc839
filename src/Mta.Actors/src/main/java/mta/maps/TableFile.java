package mta.maps;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import mta.config.ConfigError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source file of a table, parsed into {@code T} and parsed again when it changes (its
 * modification time or size), at the next lookup: no restart, no {@code postmap}. A file that
 * no longer parses leaves the last good version in force and says so in the log, with file
 * and line; at start (the constructor) it is a {@link ConfigError}, which stops the node.
 */
final class TableFile<T> {
  private static final Logger log = LoggerFactory.getLogger("dict");

  /** One logical line: {@code number} is where it starts in {@code file}. */
  record Line(Path file, int number, String text) {
    /** A malformed line, worded as Postfix does: {@code /etc/mta/access, line 3: ...}. */
    ConfigError error(String problem) {
      return new ConfigError(file + ", line " + number + ": " + problem);
    }
  }

  private final String name;
  private final Path file;
  private final Function<List<Line>, T> parser;
  private volatile T current;
  private volatile Version loaded;

  private record Version(FileTime modified, long size) {}

  /** @param parser turns the logical lines into a table; a bad line is {@link Line#error} */
  TableFile(String name, Path file, Function<List<Line>, T> parser) {
    this.name = name;
    this.file = file;
    this.parser = parser;
    try {
      this.loaded = version();
      this.current = parser.apply(logicalLines(file));
    } catch (IOException e) {
      throw new ConfigError(name + ": cannot read " + file + ": " + e.getMessage());
    }
  }

  /** The table, read again first if the file has changed. */
  T current() {
    try {
      var version = version();
      if (!version.equals(loaded)) {
        loaded = version;
        current = parser.apply(logicalLines(file));
        log.info("{}: reloaded", name);
      }
    } catch (IOException | ConfigError e) {
      log.warn("warning: {}: keeping the last good table: {}", name, e.getMessage());
    }
    return current;
  }

  private Version version() throws IOException {
    return new Version(Files.getLastModifiedTime(file), Files.size(file));
  }

  /**
   * Postfix's table file syntax: blank lines and lines whose first non-blank character is
   * {@code #} are ignored; a line that starts with white space continues the previous one.
   */
  private List<Line> logicalLines(Path path) throws IOException {
    var lines = Files.readAllLines(path, StandardCharsets.UTF_8);
    var logical = new ArrayList<Line>();
    for (int i = 0; i < lines.size(); i++) {
      var raw = lines.get(i);
      var text = raw.strip();
      if (text.isEmpty() || text.startsWith("#")) continue;
      if (Character.isWhitespace(raw.charAt(0))) {
        if (logical.isEmpty()) throw new ConfigError(path + ", line " + (i + 1) + ": continuation line without a preceding line");
        var last = logical.removeLast();
        logical.add(new Line(path, last.number(), last.text() + " " + text));
      } else {
        logical.add(new Line(path, i + 1, text));
      }
    }
    return logical;
  }
}

package mta.ctl;

import java.io.PrintStream;
import java.util.List;
import mta.management.ConfigEntry;
import mta.management.Json;

/** {@code config show [-n]}: postconf and postconf -n, with the file each value came from. */
final class CtlConfig {
  private CtlConfig() {}

  static void show(CtlClient client, boolean nonDefault, PrintStream out, boolean json) {
    var entries = client.get("/config" + (nonDefault ? "?nondefault=true" : ""));
    out.print(json ? entries + "\n" : postconf(List.of(Json.read(entries.toString(), ConfigEntry[].class))));
  }

  /** {@code name = value  # origin}, one setting a line. */
  static String postconf(List<ConfigEntry> entries) {
    var out = new StringBuilder();
    entries.forEach(e -> out.append(e.name()).append(" = ").append(e.value()).append("  # ").append(e.origin()).append('\n'));
    return out.toString();
  }
}

package mta.management;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One effective {@code mta.*} setting, as postconf shows it: its name below {@code mta} (Postfix's
 * parameter name), its value, and where that value came from ({@code FILE:LINE}, or the
 * resource that holds the defaults). A setting is a default when it comes from a resource on
 * the class path (hocon/reference.conf and the profiles) or from the node itself, and not from
 * the operator's file: {@code postconf -n} shows the others. Passwords and tokens are masked.
 */
public record ConfigEntry(String name, String value, String origin, boolean isDefault) {

  static final String HIDDEN = "(hidden)";

  /** Every leaf setting under {@code mta} of a resolved configuration, sorted by name. */
  public static List<ConfigEntry> of(Config resolved) {
    return resolved.getConfig("mta").entrySet().stream()
        .map(e -> of(e.getKey(), e.getValue()))
        .sorted(Comparator.comparing(ConfigEntry::name))
        .toList();
  }

  private static ConfigEntry of(String name, ConfigValue value) {
    var origin = value.origin();
    var secret = (name.endsWith("password") || name.endsWith("token")) && !render(value).isEmpty();
    return new ConfigEntry(name, secret ? HIDDEN : render(value), where(origin), origin.resource() != null || origin.filename() == null);
  }

  private static String render(ConfigValue value) {
    return switch (value.valueType()) {
      case LIST -> ((ConfigList) value).stream().map(ConfigEntry::render).collect(Collectors.joining(", "));
      case OBJECT -> value.render(ConfigRenderOptions.concise());
      case NULL -> "";
      default -> String.valueOf(value.unwrapped());
    };
  }

  private static String where(ConfigOrigin origin) {
    var source = origin.resource() != null ? origin.resource() : origin.filename();
    if (source == null) return origin.description();
    return origin.lineNumber() > 0 ? source + ":" + origin.lineNumber() : source;
  }
}

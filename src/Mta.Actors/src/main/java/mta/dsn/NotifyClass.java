package mta.dsn;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Postfix's notify_classes: which problems the postmaster hears about. This package reads
 * {@link #BOUNCE}, {@link #TWO_BOUNCE} and {@link #DELAY}; the others belong to smtpd and
 * the daemons, and are accepted so that a Postfix value parses as it is.
 */
public enum NotifyClass {
  BOUNCE("bounce"), TWO_BOUNCE("2bounce"), DATA("data"), DELAY("delay"),
  POLICY("policy"), PROTOCOL("protocol"), RESOURCE("resource"), SOFTWARE("software");

  private final String postfixName;

  NotifyClass(String postfixName) {
    this.postfixName = postfixName;
  }

  /**
   * The classes named in a notify_classes value, as a list of names.
   *
   * @throws IllegalArgumentException naming the first unknown class
   */
  public static Set<NotifyClass> parse(List<String> names) {
    var set = EnumSet.noneOf(NotifyClass.class);
    for (var name : names) {
      var wanted = name.strip().toLowerCase(Locale.ROOT);
      set.add(Arrays.stream(values()).filter(c -> c.postfixName.equals(wanted)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unknown notify class '" + name + "'")));
    }
    return Set.copyOf(set);
  }
}

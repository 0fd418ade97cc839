package mta.management;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Postfix's qshape: how many messages wait for each recipient domain, by age in minutes. The
 * buckets are qshape's: up to 5 minutes, 10, 20, 40, 80, 160, 320, 640, 1280, and older. A
 * message counts once per domain it still has open recipients at. The first row is
 * {@code TOTAL}; the others follow by count, largest first.
 */
public record QueueShape(List<String> buckets, List<Row> rows) {

  public static final String TOTAL = "TOTAL";
  private static final int[] LIMITS = {5, 10, 20, 40, 80, 160, 320, 640, 1280};

  public record Row(String domain, long total, List<Long> counts) {}

  static QueueShape of(List<QueueEntry> entries, long nowMillis) {
    var byDomain = new TreeMap<String, long[]>();
    var total = new long[LIMITS.length + 1];
    for (var e : entries) {
      int bucket = bucket((nowMillis / 1000 - e.arrivalTime()) / 60.0);
      total[bucket]++;
      e.recipients().stream().map(r -> QueueEntry.domainOf(r.address()).toLowerCase(Locale.ROOT)).distinct()
          .forEach(d -> byDomain.computeIfAbsent(d, x -> new long[LIMITS.length + 1])[bucket]++);
    }
    var rows = new ArrayList<Row>();
    rows.add(row(TOTAL, total));
    byDomain.entrySet().stream()
        .map(d -> row(d.getKey(), d.getValue()))
        .sorted(Comparator.comparingLong(Row::total).reversed())
        .forEach(rows::add);
    var buckets = new ArrayList<String>();
    for (int limit : LIMITS) buckets.add(Integer.toString(limit));
    buckets.add(LIMITS[LIMITS.length - 1] + "+");
    return new QueueShape(buckets, rows);
  }

  private static int bucket(double minutes) {
    for (int i = 0; i < LIMITS.length; i++) if (minutes < LIMITS[i]) return i;
    return LIMITS.length;
  }

  private static Row row(String domain, long[] counts) {
    return new Row(domain, Arrays.stream(counts).sum(), Arrays.stream(counts).boxed().toList());
  }
}

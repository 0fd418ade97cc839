package mta.queue;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Postfix-style long queue ids: the arrival time in microseconds and a random tail, in a
 * base-51 alphabet (no vowels, no z: z separates the parts), so ids sort by arrival and never repeat
 * across nodes (the tail is random per id, the clock part strictly increases per node).
 */
public final class QueueId {
  private static final char[] ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy".toCharArray();
  private static final AtomicLong lastMicros = new AtomicLong();

  private QueueId() {}

  public static String next() {
    long now = System.currentTimeMillis() * 1000;
    long micros = lastMicros.updateAndGet(prev -> Math.max(prev + 1, now));
    var sb = new StringBuilder(16);
    encode(micros, sb);
    sb.append('z');
    encode(ThreadLocalRandom.current().nextLong(1L << 40), sb);
    return sb.toString();
  }

  private static void encode(long value, StringBuilder sb) {
    var digits = new StringBuilder();
    do {
      digits.append(ALPHABET[(int) (value % ALPHABET.length)]);
      value /= ALPHABET.length;
    } while (value > 0);
    sb.append(digits.reverse());
  }
}

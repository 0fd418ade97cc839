package mta.queue;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Postfix-style long queue ids: the arrival time in microseconds and a random tail, in a
 * base-51 alphabet (no vowels, no z: z separates the parts), so ids sort by arrival and never repeat
 * across nodes (the tail is random per id, the clock part strictly increases per node).
 *
 * <p>A third part names the message's home: the node that received it (a tag of its cluster
 * address, {@link #homeTag}). Its Message entity lives there ({@link MessageShards}) and its
 * destination queues lease it to that node's delivery agent first, so the content is written,
 * read and sent on one node. Ids without it (made before homes existed) have no home.
 */
public final class QueueId {
  private static final char[] ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy".toCharArray();
  private static final int TAG_LENGTH = 3;
  private static final AtomicLong lastMicros = new AtomicLong();

  private QueueId() {}

  /** A new id for a message received on the node whose tag is {@code home}. */
  public static String next(String home) {
    long now = System.currentTimeMillis() * 1000;
    long micros = lastMicros.updateAndGet(prev -> Math.max(prev + 1, now));
    var sb = new StringBuilder(20);
    encode(micros, sb);
    sb.append('z');
    encode(ThreadLocalRandom.current().nextLong(1L << 40), sb);
    return sb.append('z').append(home).toString();
  }

  /** The home part of a queue id; empty for an id without one. */
  public static Optional<String> homeOf(String queueId) {
    int first = queueId.indexOf('z');
    int last = queueId.lastIndexOf('z');
    return first >= 0 && last > first ? Optional.of(queueId.substring(last + 1)) : Optional.empty();
  }

  /**
   * Whether the id's home is {@code home}: {@code homeOf(queueId)} equal to it, without making
   * a string (a destination queue asks it of dozens of ready ids per lease it grants).
   */
  public static boolean isHomedAt(String queueId, String home) {
    int last = queueId.lastIndexOf('z');
    return last > queueId.indexOf('z') && queueId.length() - last - 1 == home.length()
        && queueId.startsWith(home, last + 1);
  }

  /**
   * The home tag of a node: three letters from its cluster address ({@code host:port}), the
   * same after a restart at the same address (a StatefulSet pod keeps its name). Two nodes
   * may share a tag (one in about 130,000 pairs): their messages then live on one of the two,
   * which costs locality, not correctness.
   */
  public static String homeTag(Address node) {
    var sb = new StringBuilder(TAG_LENGTH);
    long value = Math.floorMod(node.hostPort().hashCode(), (int) Math.pow(ALPHABET.length, TAG_LENGTH));
    for (int i = 0; i < TAG_LENGTH; i++) {
      sb.append(ALPHABET[(int) (value % ALPHABET.length)]);
      value /= ALPHABET.length;
    }
    return sb.toString();
  }

  /** The home tag of this node (a member of its cluster). */
  public static String homeTag(ActorSystem<?> node) {
    return homeTag(Cluster.get(node).selfMember().address());
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

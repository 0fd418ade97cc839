package mta.queue;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import mta.delivery.DeliveryAgent;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * The wire form of the three messages that cross the cluster once per mail: a Message
 * entity's {@link DestinationQueue.Enqueue}, the queue's {@link DeliveryAgent.Deliver} and the
 * agent's {@link DestinationQueue.LeaseCompleted}. Everything else goes as Jackson CBOR
 * ({@code mta.CborSerializable}); these three took most of the remote dispatcher's
 * serialization time in a 3-node profile (bench/RESULTS.md), and reflection is the larger
 * part of Jackson's cost for messages this small.
 *
 * <p>Protocol Buffers' wire format, written field by field with protobuf's own coder: numbered
 * fields, so a node of the next version can add one and still talk to this one during a
 * rolling upgrade (unknown fields are skipped, missing ones keep their defaults). Bound to
 * these classes in hocon/mta-node.conf.
 */
public final class LeaseSerializer extends SerializerWithStringManifest {
  /** Unique among the node's serializers (Pekko's own use 0-40; Jackson's CBOR is 33). */
  static final int IDENTIFIER = 7025;
  private static final String ENQUEUE = "E";
  private static final String DELIVER = "D";
  private static final String LEASE_COMPLETED = "C";

  private final ActorRefResolver refs;

  public LeaseSerializer(ExtendedActorSystem system) {
    this.refs = ActorRefResolver.get(Adapter.toTyped(system));
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return switch (o) {
      case DestinationQueue.Enqueue e -> ENQUEUE;
      case DeliveryAgent.Deliver d -> DELIVER;
      case DestinationQueue.LeaseCompleted c -> LEASE_COMPLETED;
      default -> throw new IllegalArgumentException("LeaseSerializer does not write " + o.getClass().getName());
    };
  }

  // Field numbers: never reuse one for another meaning, only add.
  @Override
  public byte[] toBinary(Object o) {
    return switch (o) {
      case DestinationQueue.Enqueue e -> write(out -> {
        out.writeString(1, e.queueId());
        writeAll(out, 2, e.recipients());
      });
      case DeliveryAgent.Deliver d -> write(out -> {
        out.writeInt64(1, d.lease().id());
        out.writeString(2, d.lease().route());
        out.writeString(3, d.lease().queueId());
        writeAll(out, 4, d.lease().recipients());
      });
      case DestinationQueue.LeaseCompleted c -> write(out -> {
        out.writeInt64(1, c.leaseId());
        out.writeString(2, refs.toSerializationFormat(c.agent()));
        out.writeBool(3, c.siteAnswered());
        if (c.reason() != null) out.writeString(4, c.reason()); // left out, it reads back null
        out.writeInt64(5, c.idleConnections());
      });
      default -> throw new IllegalArgumentException("LeaseSerializer does not write " + o.getClass().getName());
    };
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    Read r;
    try {
      r = read(bytes);
    } catch (IOException e) {
      var failure = new NotSerializableException("malformed " + manifest + " message: " + e.getMessage());
      failure.initCause(e);
      throw failure;
    }
    return switch (manifest) {
      case ENQUEUE -> new DestinationQueue.Enqueue(r.string(1), r.strings(2));
      case DELIVER -> new DeliveryAgent.Deliver(new DestinationQueue.Lease(r.int64(1), r.string(2), r.string(3), r.strings(4)));
      case LEASE_COMPLETED -> new DestinationQueue.LeaseCompleted(r.int64(1), agent(r.string(2)), r.bool(3), r.string(4),
          (int) r.int64(5));
      default -> throw new NotSerializableException("LeaseSerializer: unknown manifest " + manifest);
    };
  }

  private ActorRef<DeliveryAgent.Command> agent(String path) throws NotSerializableException {
    if (path == null) throw new NotSerializableException("LeaseCompleted without its agent");
    return refs.resolveActorRef(path);
  }

  /** One message's fields, written with protobuf's coder. */
  private interface FieldWriter {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] write(FieldWriter fields) {
    var bytes = new ByteArrayOutputStream(128);
    var out = CodedOutputStream.newInstance(bytes, 128);
    try {
      fields.write(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // into a ByteArrayOutputStream: does not happen
    }
    return bytes.toByteArray();
  }

  /** A repeated field: one entry per value, in order. */
  private static void writeAll(CodedOutputStream out, int number, List<String> values) throws IOException {
    for (var value : values) out.writeString(number, value);
  }

  /** The fields of one message by number; a field not present reads as null, 0 or false, or an empty list. */
  private record Read(Object[] values) {
    String string(int n) {
      return (String) values[n];
    }

    @SuppressWarnings("unchecked")
    List<String> strings(int n) {
      return switch (values[n]) {
        case null -> List.of();
        case String one -> List.of(one);
        default -> List.copyOf((List<String>) values[n]);
      };
    }

    long int64(int n) {
      return values[n] == null ? 0 : (Long) values[n];
    }

    boolean bool(int n) {
      return values[n] != null && (Long) values[n] != 0;
    }
  }

  /**
   * Length-delimited fields are strings (a repeated one collects into a list), varints are
   * numbers; fields this version does not know, and wire types it does not expect, are skipped.
   */
  @SuppressWarnings("unchecked")
  private static Read read(byte[] bytes) throws IOException {
    var in = CodedInputStream.newInstance(bytes);
    var values = new Object[8];
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      int n = WireFormat.getTagFieldNumber(tag);
      int type = WireFormat.getTagWireType(tag);
      if (n >= values.length) {
        in.skipField(tag);
      } else if (type == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        var s = in.readStringRequireUtf8();
        switch (values[n]) {
          case null -> values[n] = s;
          case String first -> values[n] = new ArrayList<>(List.of(first, s));
          case List<?> list -> ((List<String>) list).add(s);
          default -> throw new IOException("field " + n + " is both a number and a string");
        }
      } else if (type == WireFormat.WIRETYPE_VARINT) {
        values[n] = in.readInt64();
      } else {
        in.skipField(tag);
      }
    }
    return new Read(values);
  }
}

package mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.CodedOutputStream;
import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayOutputStream;
import java.io.NotSerializableException;
import java.util.List;
import mta.delivery.DeliveryAgent;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The per-mail messages through the serialization the node's configuration binds them to. */
class LeaseSerializerTest {
  private static ActorTestKit kit;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    // The node's own bindings (hocon/mta-node.conf), on a local actor system that leaves the JVM running.
    kit = ActorTestKit.create("LeaseSerializerTest", ConfigFactory.parseString("""
        pekko.actor.provider = local
        pekko.coordinated-shutdown.exit-jvm = off
        """)
        .withFallback(ConfigFactory.parseResources("mta-node.conf")).withFallback(ConfigFactory.load()).resolve());
    serialization = SerializationExtension.get(kit.system());
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static Object roundTrip(Object message) throws NotSerializableException {
    var serializer = serialization.findSerializerFor(message);
    assertInstanceOf(LeaseSerializer.class, serializer, "the node binds " + message.getClass().getSimpleName() + " to it");
    var bytes = serializer.toBinary(message);
    return serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
  }

  @Test
  void anEnqueueCrossesWhole() throws Exception {
    for (var recipients : List.of(List.<String>of(), List.of("a@example.com"),
        List.of("a@example.com", "b@example.com", "Dörte@bücher.example"))) {
      var enqueue = new DestinationQueue.Enqueue("node1-4NbQ7x2kLwA", recipients);
      assertEquals(enqueue, roundTrip(enqueue));
    }
  }

  @Test
  void aDeliverCrossesWhole() throws Exception {
    var deliver = new DeliveryAgent.Deliver(new DestinationQueue.Lease(1_765_000_000_000_123L, "smtp:[mx.example]:25",
        "node2-4NbQ7x2kLwB", List.of("x@example.org", "y@example.org")));
    assertEquals(deliver, roundTrip(deliver));
  }

  @Test
  void aLeaseCompletedCrossesWithItsAgent() throws Exception {
    var agent = kit.createTestProbe(DeliveryAgent.Command.class).ref();
    for (var reason : new String[] {"250 2.0.0 Ok: queued as 4NbQ7", "", null}) {
      var completed = new DestinationQueue.LeaseCompleted(42L, agent, reason != null, reason, 3);
      assertEquals(completed, roundTrip(completed));
    }
  }

  @Test
  void fieldsOfALaterVersionAreSkipped() throws Exception {
    var enqueue = new DestinationQueue.Enqueue("node1-4NbQ7x2kLwA", List.of("a@example.com"));
    var serializer = (LeaseSerializer) serialization.findSerializerFor(enqueue);
    var extended = new ByteArrayOutputStream();
    extended.write(serializer.toBinary(enqueue));
    var out = CodedOutputStream.newInstance(extended);
    out.writeString(9, "a field this version does not know");
    out.writeInt64(6, 7);
    out.writeFixed64(2, 1); // a known number with a wire type it never has here
    out.flush();
    assertEquals(enqueue, serializer.fromBinary(extended.toByteArray(), "E"));
  }

  @Test
  void aMalformedMessageIsRefusedNotGuessed() {
    var serializer = new LeaseSerializer((ExtendedActorSystem) Adapter.toClassic(kit.system()));
    var truncated = new byte[] {0x0a, 0x10, 'n', 'o', 'd', 'e'}; // field 1, 16 bytes long, 4 there
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(truncated, "E"));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "?"));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "C"), "no agent");
  }
}

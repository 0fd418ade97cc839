package mta;

/**
 * Marker for everything that crosses the cluster or enters the journal: commands, replies,
 * events and snapshots. Bound to Jackson CBOR in hocon/mta-node.conf, but for the three
 * messages that cross the cluster once per mail (mta.queue.LeaseSerializer).
 */
public interface CborSerializable {}

package mta;

/**
 * Marker for everything that crosses the cluster or enters the journal: commands, replies,
 * events and snapshots. Bound to Jackson CBOR in hocon/mta-node.conf.
 */
public interface CborSerializable {}

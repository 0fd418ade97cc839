/*++
 * NAME
 *	node
 * SUMMARY
 *	the mail node (Postfix master)
 * DESCRIPTION
 *	Main checks the configuration and the journal's tables and starts the actor system
 *	"mta" with Master, its guardian: cluster join (itself when no seed nodes are set),
 *	the sharded queue entities, the queue run singleton, this node's delivery agent, the
 *	SMTP listener and the management endpoint, and, on the embedded H2 journal, the
 *	compaction of its file (JournalCompaction). CoordinatedShutdown (SIGTERM) stops
 *	taking connections, lets sessions and deliveries finish, hands shards off, leaves.
 * SEE ALSO
 *	bin/mta, mta.seed
 --*/
package mta.node;

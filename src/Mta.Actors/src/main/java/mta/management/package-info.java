/*++
 * NAME
 *	management
 * SUMMARY
 *	the node's management endpoint: queue and cluster control, configuration, metrics
 * DESCRIPTION
 *	Each mail node serves one HTTP endpoint (ManagementServer, Pekko HTTP) on
 *	mta.management.listen. mtactl talks to it; so may curl, scripts and Prometheus. What a
 *	Postfix administrator does with postqueue, postsuper, mailq, postcat, qshape and
 *	postconf on one host, this endpoint does for the whole cluster, from any of its nodes.
 *
 *	GET /queue
 *		every message of the cluster, one postqueue -j object per line (QueueEntry):
 *		queue_name, queue_id, arrival_time, message_size, sender, recipients
 *		[{address, delay_reason}]. Ids come from the read journal (currentPersistenceIds
 *		with the Message| prefix), each status from its Message entity through a
 *		sharding ask, parallelism at a time (QueueControl).
 *	GET /queue/shape[?queue=active|deferred|hold ...]
 *		qshape (QueueShape): messages per recipient domain by age, in qshape's buckets.
 *	GET /queue/ID[?body=true]
 *		postcat -q (MessageView): the envelope, each recipient's route, state, next
 *		attempt and reason, the header, and the body when asked for.
 *	POST /queue/ID/ACTION, POST /queue/ALL/ACTION[?site=DOMAIN]
 *		postsuper and postqueue (QueueAction): hold, release, flush, requeue (for now a
 *		flush: nothing is rewritten), delete. ALL is every message; site narrows ALL to
 *		messages with a recipient at that domain. The answer counts the messages changed.
 *	GET /config[?nondefault=true]
 *		postconf [-n] (ConfigEntry): every mta setting, its value, and the file and line it
 *		came from; nondefault keeps those set by the operator's file. Passwords and
 *		tokens are masked.
 *	GET /sharding, GET /sharding/TYPE
 *		shards and entities per node for Message and DestinationQueue (ShardingStats).
 *	GET /metrics
 *		Prometheus text format (Metrics).
 *	/cluster/members, /cluster/members/ADDR (GET, PUT operation=Leave|Down, DELETE),
 *	/cluster/domain-events (server-sent events), /cluster/shards, /ready, /alive
 *		Pekko Management's cluster HTTP routes and health checks, served here.
 *
 *	Errors are JSON objects with an "error" (ours) or a "message" (Pekko Management's).
 * SECURITY
 *	A call that changes something needs the bearer token when one is set
 *	(Authorization: Bearer TOKEN); read-only calls need it too unless the endpoint listens
 *	on a loopback address. /ready and /alive are always open, for probes. Without a token
 *	the endpoint must be on loopback, where every local user may use it: the node refuses
 *	to start with a non-loopback listen address and no token (Access, MtaConfig).
 * METRICS
 *	mta_smtpd_connections_total, mta_smtpd_sessions
 *	mta_messages_accepted_total, mta_messages_rejected_total{reason}
 *		reason: reply code and enhanced status ("554 5.7.1"), at most 50 of them.
 *	mta_deliveries_total{status,destination}
 *		status: sent, deferred, bounced; destination: transport:nexthop, the first
 *		metrics_destinations seen by name and the rest "other".
 *	mta_journal_write_seconds
 *		histogram of the Accepted event's journal write, until the commit.
 *	mta_destination_concurrency_window{destination}
 *		the destination queues of this node that have a label of their own.
 *	mta_queue_messages{queue}
 *		active, deferred and hold, for the whole cluster, counted again at most every
 *		queue_sample_interval (a count asks every Message entity, as the queue run does).
 *	mta_cluster_members{status}, mta_cluster_unreachable_members
 *
 *	The counting points call Metrics from smtpd (SmtpServer, SmtpSession), delivery
 *	(DeliveryAgent), the Message and DestinationQueue entities.
 * SETTINGS
 *	management.listen		host:port (default 127.0.0.1:8558)
 *	management.token		the bearer token
 *	management.token_file		a file holding it (wins over token)
 *	management.parallelism		entity asks at once when listing the queue (16)
 *	management.ask_timeout		for each of those asks (10s)
 *	management.metrics_destinations	destinations labelled by name (20)
 *	management.queue_sample_interval	least time between queue counts for /metrics (60s)
 * SEE ALSO
 *	mta.ctl (mtactl), mta.queue (Message: Hold, Release, Delete, Flush, GetStatus),
 *	postqueue(1), postsuper(1), postcat(1), qshape(1), postconf(1), Pekko Management's
 *	cluster HTTP documentation
 *--*/
package mta.management;

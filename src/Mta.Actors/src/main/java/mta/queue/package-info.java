/*++
 * NAME
 *	queue
 * SUMMARY
 *	the queue manager: Message and DestinationQueue entities (Postfix qmgr)
 * DESCRIPTION
 *	Message is one queued message (Postfix's queue file), a sharded, event-sourced entity
 *	keyed by queue id. It is the truth about its recipients and hands the pending ones to
 *	its node's NodeQueue. DestinationQueue is one destination (transport:nexthop) for the
 *	whole cluster: it holds the concurrency window and grants each node a share of it
 *	(ShareAllocation); each node's NodeQueue leases its own ready mail to its own
 *	delivery agent within its share (DestinationShare), so the limit holds cluster-wide
 *	while a mail does not leave its node on the way out.
 * MAIL QUEUES
 *	Postfix's queues are states of a Message here:
 *
 *	active		recipients pending: handed to their destination queue, or out on a lease
 *	deferred	recipients deferred, each waiting for its own retry time
 *	hold		held (header_checks HOLD, an access table, the operator): nothing moves
 *			until released
 *
 *	Ready and delayed work are kept apart: a DestinationQueue only ever sees recipients
 *	that are due, oldest first, so deferred mail never starves fresh mail, and a dead or
 *	slow destination never holds up another.
 * STRATEGIES
 *	Concurrency (Feedback): start at initial_destination_concurrency, +1/window per
 *	delivery that reached the site, -1/window per one that did not, up to
 *	default_destination_concurrency_limit; a window's worth of failures in a row (a
 *	failed cohort) marks the site dead for minimal_backoff_time, and its mail is deferred
 *	at once ("delivery temporarily suspended") instead of being tried.
 *
 *	Per transport: a destination queue's route (transport:nexthop) names its
 *	transport, and <transport>_initial_destination_concurrency,
 *	<transport>_destination_concurrency_limit, <transport>_destination_recipient_limit
 *	and <transport>_destination_rate_delay (e.g. smtp_destination_concurrency_limit)
 *	override the defaults for its destinations.
 *
 *	Rate: a non-zero default_destination_rate_delay (or <transport>_...) makes the destination's concurrency 1 and
 *	leaves at least that long between the end of one delivery and the start of the
 *	next. The window of one is held by one node at a time, which keeps the pace; when
 *	it passes to another node, that node waits the delay after the last delivery the
 *	DestinationQueue heard of, so the pace holds for the whole cluster.
 *
 *	Retries: a deferred recipient waits as long as the message has already waited, within
 *	minimal_backoff_time and maximal_backoff_time. After maximal_queue_lifetime it bounces
 *	as expired (4.4.7).
 *
 *	Delay warning: once a message has waited delay_warning_time (0: never) with
 *	recipients still deferred, the sender gets one "delayed" report about them
 *	(Notices, by their NOTIFY), and the postmaster a copy when notify_classes has
 *	"delay". DelayWarned in the journal makes it once only, across restarts and moves.
 *
 *	Shares: each node reports, for each destination it has mail or deliveries for, its
 *	ready messages, its deliveries and idle connections at the site, and the outcomes
 *	since its last report, at most every 100 ms (at once when mail waits and it has no
 *	share). The window grows and shrinks by those outcomes as by single deliveries; the
 *	shares follow demand, filled up evenly; a share shrinks at once and others grow only
 *	into what the node has acknowledged, so the sum at the site never exceeds the window.
 *	When more nodes want a destination than its window has places, they take turns.
 *
 *	Leases: at most default_destination_recipient_limit recipients of one message per
 *	delivery; a lease not reported within delivery_lease_timeout returns to the node's
 *	ready list. A queue that starts asks every node what it holds before it grants
 *	anything; a node's share is free again when the node is gone. An agent reports a lease
 *	done once the Message entity has recorded its results.
 *
 *	Home: a message lives on the node that received it, named in its queue id (QueueId);
 *	its shard is placed there (MessageShards), its ready recipients wait in that node's
 *	NodeQueue and that node's agent delivers it: its content stays on one node and no
 *	message crosses the cluster per mail. When a node leaves, its ready mail goes to the
 *	other nodes' queues; when one dies, its messages move, and the queue run wakes them.
 *
 *	Connections: the idle connections that an agent keeps to the destination count in its
 *	node's share beside the leases, so the window bounds the connections at the site,
 *	cluster-wide; the next lease takes an idle connection where one is open, and when a
 *	node's share shrinks below what it has open, its surplus idle connections close at
 *	once rather than hold places another node's share needs.
 * DURABILITY
 *	smtpd is answered 250 only when the Accepted event is in the journal. Every outcome is
 *	journaled before it is logged. A finished message is Completed; the queue run removes
 *	its rows (QueueDirectory), as Postfix unlinks a queue file. The queue run (QueueScanner,
 *	one per cluster) wakes, every queue_run_delay, the deferred messages that fell due since
 *	the last run (found by their due tags: a run costs what falls due, not what waits), and,
 *	at start, after a node was lost and hourly, every message of the active queue too, so
 *	mail whose entity is not running (a crash, a restart, a lost node) goes on. At start and
 *	after a loss that full run comes twice, 30 s apart: a wake sharding sent to the lost node
 *	before its shards moved is not delivered, and the second one is.
 * DEFERRED QUEUE
 *	A message whose open recipients all wait for a retry more than a queue run away leaves
 *	memory (passivates); its last attempt carries a due tag (the second the first retry
 *	falls due), by which the queue run finds it then. A held message leaves memory too until
 *	released. A deferred queue of a million messages is journal rows, not heap.
 * NOTICES
 *	When every recipient is final, the notices it owes (Notices: bounces, success reports
 *	asked for with NOTIFY=SUCCESS) are queued as new messages (Submission) before the
 *	message completes. The delay warning is queued the same way, logged as
 *	"QUEUEID: sender delay notification: NEWQUEUEID".
 * SETTINGS
 *	minimal_backoff_time, maximal_backoff_time, queue_run_delay, maximal_queue_lifetime,
 *	delay_warning_time, initial_destination_concurrency,
 *	default_destination_concurrency_limit, default_destination_recipient_limit,
 *	default_destination_rate_delay and their <transport>_ forms,
 *	delivery_lease_timeout, notify_classes, delay_notice_recipient,
 *	bounce_notice_recipient, 2bounce_notice_recipient, double_bounce_sender,
 *	bounce_size_limit.
 * SEE ALSO
 *	mta.smtp (where messages come from), mta.delivery (where they go), mta.dsn.
 --*/
package mta.queue;

/*++
 * NAME
 *	mtactl
 * SUMMARY
 *	queue and cluster control for the whole cluster (mailq, postqueue, postsuper, postcat,
 *	qshape, postconf, Petabridge.Cmd's cluster commands)
 * SYNOPSIS
 *	bin/mtactl [--endpoint URL] [--config FILE] [--token-file FILE] [--json] COMMAND ...
 * DESCRIPTION
 *	mtactl talks to one node's management endpoint (mta.management) over HTTP and sees the
 *	whole cluster from there: any node will do. Output is what the Postfix tool prints; with
 *	--json it is the endpoint's JSON, one document (queue list: one message) per line.
 *
 *	cluster show	members with status and roles, the leader, this node, the unreachable
 *	cluster leader	the leader's address
 *	cluster leave ADDR, cluster down ADDR
 *			ADDR as Pekko writes it (pekko://mta@host:port), or mta@host:port, or
 *			host:port
 *	cluster down-unreachable
 *			downs every member this node finds unreachable
 *	cluster tail [--count N]
 *			membership events as they happen, the present members first, until
 *			interrupted or N events were shown
 *	cluster sharding regions
 *			Message and DestinationQueue: nodes, shards, entities
 *	cluster sharding region-stats Message|DestinationQueue
 *			shards and entities per node
 *	queue list	mailq: queue id (* active, ! on hold), size, arrival time, sender,
 *			each open recipient under the reason of its last deferral, and the
 *			"-- N Kbytes in M Requests." trailer; with --json, postqueue -j
 *	queue show ID [--body]
 *			postcat -q: envelope, each recipient's route, state, next attempt and
 *			reason, the header, and with --body the whole message
 *	queue flush [--site DOMAIN]
 *			postqueue -f (-s DOMAIN): deferred mail is tried now
 *	queue hold ID|ALL, queue release ID|ALL, queue delete ID|ALL
 *			postsuper -h, -H, -d
 *	queue requeue ID|ALL
 *			postsuper -r, for now a flush of that message: nothing is rewritten or
 *			routed again, and a held message stays held
 *	queue shape [active|deferred|hold ...]
 *			qshape: messages per recipient domain by age in minutes
 *			(T 5 10 20 40 80 160 320 640 1280 1280+), over the queues named or all
 *	config show [-n]
 *			postconf [-n]: every mta setting of the node, or only those its file
 *			sets, as "name = value  # FILE:LINE"
 * OPTIONS
 *	--endpoint URL	the node to ask; default: the mta.management.listen of --config FILE,
 *			else http://127.0.0.1:8558 (host:port alone means http://host:port)
 *	--config FILE	a node's configuration file, for its endpoint and token
 *	--token-file FILE
 *			the management token for calls that change something (and for every
 *			call to a node off loopback); else the environment's MTACTL_TOKEN, else
 *			the --config file's mta.management.token or token_file
 *	--json		JSON instead of the Postfix layouts
 * EXIT STATUS
 *	0	done
 *	1	the node answered with an error: no such message or member, the token is
 *		missing or wrong, the call failed (its words are printed)
 *	2	usage: an unknown command or option, a missing argument, an unreadable
 *		--config or --token-file
 *	3	the node cannot be reached: nothing listens at the endpoint, or the
 *		connection failed
 * ENVIRONMENT
 *	MTACTL_TOKEN	the management token, when --token-file is not given
 *	MTACTL_JAVA_OPTS
 *			the JVM's options (bin/mtactl)
 * SEE ALSO
 *	mta.management (the endpoint and its routes), mailq(1), postqueue(1), postsuper(1),
 *	postcat(1), qshape(1), postconf(1), Petabridge.Cmd's cluster commands
 *--*/
package mta.ctl;

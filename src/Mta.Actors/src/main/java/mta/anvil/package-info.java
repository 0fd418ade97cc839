/*++
 * NAME
 *	anvil
 * SUMMARY
 *	cluster-wide per-client connection and rate counters (Postfix anvil)
 * DESCRIPTION
 *	One sharded Anvil entity per client address keeps, for the whole cluster, how many
 *	connections that client holds open and how many connections, MAIL, RCPT and AUTH
 *	commands it made in the current anvil_rate_time_unit (ClientCounts, plain code). smtpd
 *	sessions on every node report to it through AnvilClient (connect, mail, rcpt, auth, as
 *	Postfix's anvil_clnt) and refuse what ClientLimits forbids, with Postfix's replies:
 *
 *	connection count or rate	421 4.7.0 <myhostname> Error: too many connections from <addr>
 *	MAIL rate			450 4.7.1 Error: too much mail from <addr>
 *	RCPT rate			450 4.7.1 Error: too many recipients from <addr>
 *	AUTH rate			450 4.7.1 Error: too many AUTH commands from <addr>
 *
 *	and Postfix's warnings: "warning: Connection concurrency limit exceeded: 51 from
 *	host[addr] for service smtp", "Connection rate limit exceeded", "Message delivery
 *	request rate limit exceeded", "Recipient address rate limit exceeded", "AUTH command
 *	rate limit exceeded".
 * COST
 *	Nothing when every limit is 0 (anvil is not even started for a session). Otherwise one
 *	ask at connect (count and rate; the entity watches the session actor and counts it down
 *	when it stops, on any node, even one that dies), one ask per MAIL (the message rate and
 *	the recipient rate so far; the session counts its own RCPTs on from there and tells each
 *	to the entity without waiting), one per AUTH. Clients in
 *	smtpd_client_event_limit_exceptions are never counted.
 * ERRORS
 *	Soft state: not persisted; an entity passivates when its client has nothing open and
 *	its interval has run out, and a restart or rebalance forgets the counts (Postfix's anvil
 *	forgets on restart too). An ask unanswered within 2 s is logged ("warning: anvil: no
 *	answer about ADDR ...") and the session carries on without the limit: anvil must never
 *	stop mail.
 * SETTINGS
 *	smtpd_client_connection_count_limit (50), smtpd_client_connection_rate_limit,
 *	smtpd_client_message_rate_limit, smtpd_client_recipient_rate_limit,
 *	smtpd_client_auth_rate_limit (0: off), anvil_rate_time_unit (60s),
 *	smtpd_client_event_limit_exceptions ($mynetworks)
 * SEE ALSO
 *	mta.smtp (the sessions that ask), postfix/src/anvil/anvil.c, global/anvil_clnt.c,
 *	smtpd/smtpd.c; postconf(5), TUNING_README
 *--*/
package mta.anvil;

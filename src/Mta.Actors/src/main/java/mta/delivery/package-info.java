/*++
 * NAME
 *	delivery
 * SUMMARY
 *	delivery agents: the SMTP client and the local transport (Postfix smtp, local)
 * DESCRIPTION
 *	DeliveryAgent, one per node, takes leases from destination queues anywhere in the
 *	cluster, fetches the message from its Message entity and delivers it by the route's
 *	transport:
 *
 *	smtp, relay	over SMTP: a [host]:port next hop as given, otherwise the MX hosts of
 *			the domain (MxResolver: preference order, equal preferences shuffled,
 *			A/AAAA fallback, null MX and NXDOMAIN bounce, SERVFAIL defers, no
 *			loops back to ourselves). One SmtpConnection actor per connection
 *			drives SmtpClientProtocol: EHLO (HELO fallback), PIPELINING, SIZE,
 *			8BITMIME, per-recipient results; idle connections are kept for
 *			smtp_connection_cache_time_limit and reused for the same
 *			destination, host, TLS policy and SASL user only; the
 *			destination's queue knows how many, since they count in its
 *			concurrency window.
 *			STARTTLS by the next hop's TLS policy (SmtpTlsPolicy:
 *			smtp_tls_security_level, smtp_tls_policy_maps; none, may, encrypt,
 *			verify, secure); AUTH PLAIN or LOGIN toward a smarthost (SmtpSasl:
 *			smtp_sasl_password_maps), never with a password in plaintext unless
 *			smtp_sasl_security_options allow it.
 *	local		Maildir or mbox mailboxes after aliases(5) expansion (mta.delivery.local)
 *	error		bounces, the next hop being the reason
 *	discard		drops the mail, reporting it sent
 *
 *	Results go back to the Message entity, and once it has recorded them the lease goes
 *	back to its queue with the concurrency feedback: whether the site answered. When the
 *	node leaves, the agent leaves the receptionist first, hands back the leases still
 *	offered to it and finishes the ones under way.
 * ERROR POLICY
 *	Connection failure, or a greeting other than 2xx: try the next MX host; when none is
 *	left, defer every recipient with the last reason (negative feedback). 421 at any point
 *	ends the session: recipients the server had not decided are deferred. Otherwise each
 *	recipient takes its own reply: 2xx sent, 4xx deferred, 5xx bounced.
 *	TLS: under may a failed handshake retries the host in plaintext; under encrypt, verify
 *	and secure, no STARTTLS defers 4.7.4, a failed handshake or an untrusted chain 4.7.5
 *	("Cannot start TLS"), a certificate without the expected name 4.7.5 ("Server
 *	certificate not verified"); a bad smtp_tls_policy_maps entry defers 4.7.5 ("client TLS
 *	configuration problem") with a warning. SASL: a server that offers no AUTH gets the
 *	mail without it; AUTH offered but no allowed mechanism defers 4.7.0 ("no mechanism
 *	available"); a 5xx to AUTH defers with its DSN class made 4 (smtp_sasl_auth_soft_bounce),
 *	or bounces without soft bounce. A TLS or SASL failure in a session tries the next MX
 *	host first, as a connection failure does.
 * SETTINGS
 *	mta.dns.resolvers, mta.dns.timeout, smtp_connect_timeout, smtp_helo_timeout,
 *	smtp_data_done_timeout, smtp_connection_cache_time_limit, smtp_tls_security_level,
 *	smtp_tls_policy_maps, smtp_tls_CAfile, smtp_tls_verify_cert_match,
 *	smtp_tls_secure_cert_match, parent_domain_matches_subdomains, smtp_sasl_auth_enable,
 *	smtp_sasl_password_maps, smtp_sasl_security_options, smtp_sasl_tls_security_options,
 *	smtp_sasl_auth_soft_bounce, alias_maps,
 *	mail_spool_directory, home_mailbox, mailbox_size_limit.
 * SEE ALSO
 *	mta.queue, mta.delivery.local; Postfix TLS_README, SASL_README, postconf(5)
 --*/
package mta.delivery;

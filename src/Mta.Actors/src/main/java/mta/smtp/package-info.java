/*++
 * NAME
 *	smtp
 * SUMMARY
 *	SMTP server: listener, sessions, protocol and restrictions (Postfix smtpd)
 * DESCRIPTION
 *	SmtpServer accepts connections and runs one SmtpSession actor per client.
 *	SmtpServerProtocol is the session's state machine, without sockets: command syntax
 *	(SmtpCommand), sequence, limits, the DSN parameters of RFC 3461 (RET, ENVID, NOTIFY,
 *	ORCPT, kept in the Envelope), and at each stage the restrictions (SmtpChecks). At the
 *	end of DATA the session runs cleanup (mta.ingest) and routing (mta.routing) and asks
 *	a Message entity to accept the message; 250 follows the journal write.
 * TLS AND AUTH
 *	SmtpdTls holds the server certificate (JDK SSLEngine under Netty's SslHandler, TLS 1.2
 *	and 1.3). STARTTLS (RFC 3207) is offered with smtpd_tls_security_level = may and
 *	required before MAIL with encrypt (530 5.7.0 Must issue a STARTTLS command first).
 *	SmtpServerHandler stops reading after a STARTTLS line; after the 220 it drops whatever
 *	plaintext was pipelined behind it (CVE-2011-0411), puts TLS first in the pipeline and
 *	reads on; the protocol forgets HELO, AUTH and the transaction. listen.submissions
 *	(465, RFC 8314) is TLS from the first byte. Each handshake is logged "Anonymous TLS
 *	connection established from host[ip]: TLSv1.3 with cipher ... (256/256 bits)", and the
 *	Received header carries "(using ...)" and ESMTPS.
 *
 *	SMTP AUTH (RFC 4954: PLAIN and LOGIN) checks SaslPasswords, a table of bcrypt hashes
 *	(smtpd_sasl_password_maps); with smtpd_tls_auth_only it is offered under TLS only.
 *	Success is 235 2.7.0, failure 535 5.7.8 Error: authentication failed, a table that
 *	cannot answer 454 4.7.0. The user is permit_sasl_authenticated's, appears on the
 *	"client=host[ip], sasl_method=PLAIN, sasl_username=u" line and as "(Authenticated
 *	sender: u)" with ESMTPSA in Received. The submission ports (listen.submission, 587, and
 *	listen.submissions) want AUTH before MAIL (530 5.7.0 Authentication required).
 * RESTRICTION STAGES
 *	Restrictions evaluates Postfix's lists, first decisive answer wins:
 *
 *	smtpd_client_restrictions	at connect	}  with smtpd_delay_reject (default)
 *	smtpd_helo_restrictions		at HELO/EHLO	}  all three are evaluated at RCPT,
 *	smtpd_sender_restrictions	at MAIL		}  in this order
 *	smtpd_relay_restrictions	at RCPT (default permit_mynetworks,
 *					permit_sasl_authenticated, reject_unauth_destination)
 *	smtpd_recipient_restrictions	at RCPT, after the relay restrictions
 *	smtpd_data_restrictions		at DATA
 *	smtpd_end_of_data_restrictions	at the end of the message
 *
 *	An OK ends its own list only. Without smtpd_delay_reject a client refused at connect
 *	gets the refusal instead of the greeting and 503 5.7.0 for every command but QUIT.
 *	After the recipient lists, smtpd_reject_unlisted_recipient refuses recipients unknown
 *	to the table of their address class: 550 5.1.1 <x@y>: Recipient address rejected:
 *	User unknown in local recipient table (local_recipient_maps), ... in virtual mailbox
 *	table, ... in relay recipient table, ... in virtual alias table. postmaster always
 *	exists. A relocated user gets 551 5.1.6 ... User has moved to NEW; an error:
 *	transport, 550 with its text. A bare "postmaster" is accepted without any check.
 * RESTRICTIONS
 *	permit, reject (554 5.7.1), defer (450 4.3.2), defer_if_permit, defer_if_reject,
 *	permit_mynetworks, permit_sasl_authenticated (after SMTP AUTH),
 *	permit_auth_destination, reject_unauth_destination (554 5.7.1 <x@y>: Relay access
 *	denied), defer_unauth_destination (454), permit_mx_backup, reject_unauth_pipelining
 *	(503 5.5.0), reject_invalid_helo_hostname (501 5.5.2), reject_non_fqdn_helo_hostname
 *	(504 5.5.2), reject_unknown_helo_hostname (450), reject_unknown_client_hostname
 *	(450 4.7.25), reject_non_fqdn_sender, reject_non_fqdn_recipient (504 5.5.2),
 *	reject_unknown_sender_domain (450 4.1.8), reject_unknown_recipient_domain
 *	(450 4.1.2), both 550/556 for a null MX, reject_unlisted_sender,
 *	reject_unlisted_recipient, reject_multi_recipient_bounce, reject_rbl_client ZONE,
 *	reject_rhsbl_client, reject_rhsbl_helo, reject_rhsbl_sender, reject_rhsbl_recipient
 *	ZONE (554 5.7.1 Service unavailable; ... blocked using ZONE; TXT; ZONE may end in
 *	=127.0.0.2 or =127.0.0.[2..11]), check_client_access, check_helo_access,
 *	check_sender_access, check_recipient_access TABLE, check_policy_service
 *	inet:host:port (Postfix's policy delegation protocol), and restriction class names
 *	(smtpd_restriction_classes). A bare type:table is the stage's check_*_access.
 *
 *	Access table results: OK, RELAY, an all-numeric value (OK), DUNNO, REJECT [text],
 *	DEFER [text], 4NN/5NN text, DEFER_IF_PERMIT, DEFER_IF_REJECT, HOLD (queue on hold),
 *	DISCARD (answer 250, queue nothing), WARN, INFO, or a list of restrictions and
 *	class names. Replies read "<name>: Client host|Helo command|Sender address|Recipient
 *	address rejected: text", with Postfix's codes. Every refusal is logged
 *	"NOQUEUE: reject: RCPT from host[ip]: REPLY; from=<> to=<> proto=ESMTP helo=<>";
 *	HOLD and DISCARD as "NOQUEUE: hold:" and "NOQUEUE: discard:".
 * ABUSE
 *	Per-client limits are counted cluster-wide by mta.anvil (421 4.7.0 at connect, 450 4.7.1
 *	at MAIL, RCPT and AUTH). At most default_process_limit sessions run on a node, over all
 *	ports; the next connection gets 421 4.3.2 All server ports are busy, with no session
 *	spawned. PregreetTest is postscreen's pregreet test: a client outside mynetworks gets its
 *	greeting after postscreen_greet_wait (once per postscreen_greet_ttl), and one that talks
 *	before it gets 521 5.5.1 Protocol error and "PREGREET 11 after 0.52 from [addr]:port:
 *	EHLO x\r\n". A command line over 1000 octets is discarded as it arrives (500 5.5.2), a
 *	body line over 1000 octets ends in 554 5.6.0 with the rest of the body read and dropped,
 *	and a body never exceeds message_size_limit in memory.
 * ERRORS
 *	Checks may block (DNS, SQL tables, policy servers); sessions run on a dispatcher
 *	that allows it, and every wait has a timeout. A failure never becomes a 250: a table
 *	that cannot answer gives 451 4.3.0 <x>: Temporary lookup failure (an access table:
 *	451 4.3.5 ... Server configuration error), a broken setting 451 4.3.5 Server
 *	configuration error, a silent policy server smtpd_policy_service_default_action.
 *	A DNSBL that cannot be asked does not list the client (as in Postfix); an unknown
 *	domain that cannot be looked up is deferred (defer_if_permit).
 * SETTINGS
 *	myhostname, mynetworks, mydestination, relay_domains, message_size_limit,
 *	smtpd_recipient_limit, smtpd_hard_error_limit, smtpd_timeout, the restriction lists
 *	above, smtpd_restriction_classes, smtpd_delay_reject, smtpd_helo_required,
 *	strict_rfc821_envelopes, smtpd_reject_unlisted_recipient, local_recipient_maps,
 *	virtual_mailbox_maps, relay_recipient_maps, smtpd_policy_service_timeout,
 *	smtpd_policy_service_default_action, mta.dns.resolvers, mta.dns.timeout,
 *	listen.submission, listen.submissions, smtpd_tls_security_level, smtpd_tls_cert_file,
 *	smtpd_tls_key_file, smtpd_tls_auth_only, smtpd_sasl_password_maps, default_process_limit,
 *	postscreen_greet_wait, postscreen_greet_ttl, and mta.anvil's limits
 * SEE ALSO
 *	mta.maps (tables), mta.routing (address classes), mta.ingest (cleanup), mta.anvil
 *	(client limits), postfix/src/postscreen/postscreen_early.c
 *	postfix/src/smtpd/smtpd.c, smtpd_check.c, smtpd_sasl_proto.c; postconf(5), access(5),
 *	SMTPD_POLICY_README, TLS_README, SASL_README
 *--*/
package mta.smtp;

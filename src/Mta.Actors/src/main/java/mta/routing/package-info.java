/*++
 * NAME
 *	routing
 * SUMMARY
 *	address resolution and transport selection (Postfix trivial-rewrite, resolve)
 * DESCRIPTION
 *	TransportResolver.resolve(sender, recipient) answers three questions about an address:
 *
 *	What it really is
 *		Local domains are stripped and what they leave resolved again: user%site
 *		and site!user become user@site, a quoted local part holding an operator is
 *		opened ("user@site"@ours), an address without a domain gets myhostname.
 *		So user%other@ours is mail for other, and the relay checks see it so.
 *		An operator left in the local part of a remote address marks it "routed":
 *		such an address is never granted relay permission.
 *	Its address class
 *		local (mydestination), virtual alias (virtual_alias_domains), virtual
 *		mailbox (virtual_mailbox_domains), relay (relay_domains, with subdomains) or
 *		default, tried in that order.
 *	Where it goes, transport:nexthop
 *		local_transport, virtual_transport, relay_transport or default_transport,
 *		with the domain as next hop; off-host mail goes to the sender's
 *		sender_dependent_relayhost_maps entry, else relayhost. transport_maps then
 *		override transport, next hop or both (keys: user+ext@domain, user@domain,
 *		domain, .parent, *; an entry without a next hop resets it to the domain).
 *		A virtual alias domain address left unexpanded is error:5.1.1 User unknown in
 *		virtual alias table; a relocated_maps entry makes any address error:5.1.6
 *		User has moved to NEW. The error and discard transports are delivered by the
 *		delivery agent; smtpd already refuses error: recipients at RCPT.
 *
 *	A table that cannot answer throws mta.maps.LookupFailure: the caller defers.
 * SETTINGS
 *	myhostname, mydestination, relay_domains, relayhost, default_transport,
 *	virtual_alias_domains, virtual_mailbox_domains, local_transport, virtual_transport,
 *	relay_transport, transport_maps, sender_dependent_relayhost_maps, relocated_maps,
 *	recipient_delimiter
 * SEE ALSO
 *	mta.smtp (relay permission, unknown recipients), mta.ingest (rewriting before routing)
 *	postfix/src/trivial-rewrite/resolve.c, transport.c; transport(5), relocated(5)
 *--*/
package mta.routing;

/*++
 * NAME
 *	ingest
 * SUMMARY
 *	message cleanup before the queue (Postfix cleanup)
 * DESCRIPTION
 *	Cleanup.clean() takes a received message and the envelope smtpd accepted, and says
 *	what becomes of it: Queue (with the rewritten envelope and the completed content,
 *	held or not), Discard (answer 250, queue nothing) or Refuse (with the reply).
 *
 *	Addresses (AddressMapping)
 *		An address without a domain gets @myorigin. The sender goes through
 *		sender_canonical_maps and canonical_maps, each recipient through
 *		recipient_canonical_maps and canonical_maps (one to one), then
 *		virtual_alias_maps (one to many, again on each result). Unmatched address
 *		extensions are carried into the results. Duplicates are dropped. An alias
 *		loop, an expansion over virtual_alias_expansion_limit or deeper than
 *		virtual_alias_recursion_limit, or a table that cannot answer: 451 4.6.0
 *		Alias expansion error, the client tries again later.
 *	Content (ContentChecks)
 *		mime4j walks the MIME structure. Message headers go to header_checks, MIME
 *		headers (Content-*, MIME-Version, all headers of multipart parts) to
 *		mime_header_checks, the headers of attached messages to
 *		nested_header_checks, body lines (first body_checks_size_limit octets of
 *		each part) to body_checks. Actions: REJECT (550 5.7.1, or the code given),
 *		DISCARD, HOLD, WARN, INFO, IGNORE, REPLACE, PREPEND, DUNNO, OK; each is
 *		logged "QUEUEID: action: header TEXT from host[addr]; from=<> to=<>
 *		proto=ESMTP helo=<>: reason". Untouched bytes stay as received.
 *	Headers added
 *		Received on top (not inspected by header_checks, unlike Postfix); Message-Id
 *		and Date when the message has none.
 * SETTINGS
 *	myhostname, myorigin, recipient_delimiter, canonical_maps, sender_canonical_maps,
 *	recipient_canonical_maps, virtual_alias_maps, virtual_alias_expansion_limit,
 *	virtual_alias_recursion_limit, header_checks, mime_header_checks (default
 *	header_checks), nested_header_checks (default header_checks), body_checks,
 *	body_checks_size_limit
 * SEE ALSO
 *	mta.smtp (calls it at the end of DATA), mta.routing (routes what it leaves)
 *	postfix/src/cleanup/cleanup_map1n.c, cleanup_map11.c, cleanup_message.c;
 *	canonical(5), virtual(5), header_checks(5)
 *--*/
package mta.ingest;

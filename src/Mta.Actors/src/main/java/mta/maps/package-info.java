/*++
 * NAME
 *	maps
 * SUMMARY
 *	Postfix lookup tables (dict_open, maps, mail_addr_find)
 * DESCRIPTION
 *	Every setting that takes a table names it Postfix's way, type:name, and a setting may
 *	name several (a Maps), searched in order. The types:
 *
 *	texthash:FILE, hash:FILE
 *		"key value" lines, keys compared in lower case. hash: reads the same source
 *		file: no postmap, no .db files.
 *	regexp:FILE, pcre:FILE
 *		/pattern/flags result, !/pattern/ for "does not match", if/endif blocks,
 *		$1 substitution; Java regular expressions, matched anywhere in the key.
 *	cidr:FILE	network/prefix result, for client addresses (IPv4 and IPv6).
 *	inline:{ key=value, { key = text, with commas } }
 *		the table in the setting itself.
 *	static:value	every key finds value.
 *	sql:FILE, pgsql:FILE
 *		a query (pgsql_table(5) style settings: hosts, dbname, user, password, query
 *		with %s %u %d; or jdbc_url) through a small JDBC pool. Keys are bound
 *		parameters, never spliced into SQL.
 *
 *	Common to the file types: # comments, lines that start with white space continue
 *	the one before. A file is read again when it changes (modification time or size), at
 *	the next lookup. A malformed line names its file and line; at start it stops the
 *	node, later it leaves the last good version in force with a warning in the log.
 *	A table that cannot answer (a database down) throws LookupFailure: the caller answers
 *	with a temporary error, never as if the key were absent.
 * KEY ORDERS
 *	KeyOrder makes the keys an address or host is looked up with, as the seed documents
 *	give them: access maps (user+ext@sub.domain, user@sub.domain, sub.domain, parents,
 *	user+ext@, user@), virtual and canonical maps (user+ext@domain, user@domain, user+ext
 *	and user for our own domains, @domain), transport maps (..., domain, .parent, *),
 *	client names (name, parents) and addresses (1.2.3.4, 1.2.3, 1.2, 1). Only the first,
 *	whole key is shown to pattern tables. DomainList matches domain lists (mydestination,
 *	relay_domains, virtual_*_domains): names, type:table entries and !exclusions.
 * SETTINGS
 *	recipient_delimiter	the characters that start an address extension ("+")
 *	Every *_maps, *_checks and *_domains setting that names tables.
 * SEE ALSO
 *	mta.config.PolicySettings (opens the tables), mta.smtp, mta.ingest, mta.routing
 *	postfix/src/util/dict_open.c, postfix/src/global/maps.c, mail_addr_find.c,
 *	access(5), regexp_table(5), pcre_table(5), cidr_table(5), pgsql_table(5)
 *--*/
package mta.maps;

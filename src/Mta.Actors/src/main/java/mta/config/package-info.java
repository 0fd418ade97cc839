/*++
 * NAME
 *	config
 * SUMMARY
 *	the node's settings (Postfix main.cf, in HOCON)
 * DESCRIPTION
 *	MtaConfig layers the operator's file over hocon/reference.conf, the journal profile
 *	that mta.persistence selects (h2, postgres, sqlserver) and Pekko's own defaults, and
 *	reads the core settings once at start. PolicySettings reads the restriction, rewriting
 *	and lookup-table settings. Any mistake is a ConfigError that names the file, line and
 *	key; the node then exits with status 2.
 * SEE ALSO
 *	hocon/reference.conf for every key and its default.
 --*/
package mta.config;

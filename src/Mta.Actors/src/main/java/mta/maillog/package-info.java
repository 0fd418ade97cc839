/*++
 * NAME
 *	maillog
 * SUMMARY
 *	the mail log (Postfix postlogd, maillog_file = /dev/stdout)
 * DESCRIPTION
 *	MaillogAppender writes the node's Postfix-style log lines to standard output, where a
 *	container's log collector or bin/mta's caller reads them, batched by a writer thread so
 *	that logging costs the node no wake-up per line. Chosen in logback.xml and
 *	logback-json.xml; the encoder there decides the shape of a line.
 *--*/
package mta.maillog;

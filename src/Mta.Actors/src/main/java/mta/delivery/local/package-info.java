/*++
 * NAME
 *	delivery.local
 * SUMMARY
 *	local mail delivery (Postfix local and virtual)
 * DESCRIPTION
 *	LocalDelivery.deliver() delivers one message to one recipient in a final-destination
 *	domain, the way Postfix's local(8) does:
 *
 *	1.	A message that already carries "Delivered-To: recipient" is bounced as a mail
 *		forwarding loop (5.4.6).
 *	2.	The local part is expanded through the aliases(5) table (Aliases): members in
 *		local domains are expanded further, once each; the rest are forwarded (the
 *		caller queues them as a new message). bob+ext falls back to bob's entry.
 *	3.	Each local user must exist (LocalUsers, Postfix's local_recipient_maps), or the
 *		recipient bounces with 5.1.1 "unknown user". Its mailbox is chosen by
 *		MailboxLocation: home_mailbox under the home directory, or the user's name in
 *		mail_spool_directory; a path ending in "/" is a Maildir, any other an mbox.
 *	4.	MaildirDelivery writes tmp/unique, syncs, renames into new/ and syncs the
 *		directory. MboxDelivery takes a .lock dot-lock and a kernel lock, appends
 *		"From sender  date", the message with ">From " quoting and an empty line,
 *		syncs, and truncates back to the old size if anything fails. Both prepend
 *		Return-Path, X-Original-To and Delivered-To, and store Unix line endings.
 *	5.	Alias members that are files ("/path", "/path/" for a Maildir) are appended to
 *		the same way. Members that are commands ("|command") bounce: running programs
 *		from aliases (allow_mail_to_commands) is not offered.
 *
 *	Results (LocalResult): Delivered, Forwarded (local part done, the rest to queue),
 *	Deferred (4.x.x: no space 4.3.1, lock busy 4.2.0, other I/O errors 4.3.0) or Bounced
 *	(5.x.x: unknown user 5.1.1, mailbox_size_limit exceeded 5.2.2, loop 5.4.6).
 *
 *	Everything here is blocking file I/O: callers run it on a dispatcher meant for that,
 *	never on the actors' default dispatcher. Delivery is at-least-once: a deferral after
 *	some members were written writes them again on the next attempt.
 * SETTINGS
 *	alias_maps		the aliases(5) file
 *	mail_spool_directory	per-user mbox files, or Maildirs when it ends in "/"
 *	home_mailbox		a path under the home directory; overrides the spool when set
 *	mailbox_size_limit	largest mbox file or Maildir message, bytes (0: none)
 *	recipient_delimiter	user+extension separator
 *	mydestination		alias members in these domains are delivered here
 *	deliver_lock_attempts, deliver_lock_delay, stale_lock_time
 *				mbox locking
 * SEE ALSO
 *	aliases(5), local(8), postfix/src/local/mailbox.c, maildir.c,
 *	postfix/src/global/mail_copy.c, dot_lockfile.c; https://cr.yp.to/proto/maildir.html
 *--*/
package mta.delivery.local;

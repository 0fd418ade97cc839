/*++
 * NAME
 *	dsn
 * SUMMARY
 *	delivery status notifications (Postfix bounce, defer and trace daemons)
 * DESCRIPTION
 *	This package decides who is told what about a message's recipients, and writes the
 *	telling: RFC 3464 multipart/report messages, built with Apache James mime4j.
 *
 *	NotifyPolicy.notices() turns the final (or delayed) recipient statuses of one message
 *	into the notices to send:
 *
 *	failure	to the envelope sender, about the failed recipients whose NOTIFY asks for
 *		FAILURE (the default). With "bounce" in notify_classes, a postmaster copy
 *		(headers only) goes to bounce_notice_recipient as well.
 *	delay	to the envelope sender, about delayed recipients whose NOTIFY asks for DELAY;
 *		with "delay" in notify_classes, a copy to delay_notice_recipient.
 *	success	to the envelope sender, about delivered (relayed, expanded) recipients
 *		whose NOTIFY asks for SUCCESS.
 *	double bounce
 *		a message from the null sender never gets a notice back. Its failures go
 *		to 2bounce_notice_recipient when notify_classes has "bounce" or "2bounce",
 *		and are dropped otherwise; its delays go to delay_notice_recipient when
 *		notify_classes has "delay".
 *	triple bounce
 *		a postmaster notice that failed (its sender is double_bounce_sender) gets
 *		no notice at all.
 *
 *	A notice to the sender has the null envelope sender; a postmaster notice has the
 *	double_bounce_sender, so that its own failure ends here.
 *
 *	DsnBuilder.build() writes one notice as a message, CRLF line endings, ready to queue:
 *	From MAILER-DAEMON@myhostname, To the notice recipient, Subject as in Postfix
 *	("Undelivered Mail Returned to Sender", "Delayed Mail (still being retried)",
 *	"Successful Mail Delivery Report", or the postmaster variants), Auto-Submitted:
 *	auto-replied, Date and Message-ID; then three parts:
 *
 *	Notification	text/plain: Postfix's boilerplate (not in postmaster copies), then
 *			"<recipient>: reason" for each recipient, wrapped at 79 columns.
 *	Delivery report	message/delivery-status: Reporting-MTA, Original-Envelope-Id,
 *			X-Queue-ID, X-Sender, Arrival-Date; per recipient Final-Recipient,
 *			Original-Recipient, Action, Status, Remote-MTA, Diagnostic-Code and,
 *			for delays, Will-Retry-Until.
 *	(Undelivered) Message
 *			message/rfc822 with the whole original, for a failure notice to the
 *			sender with RET=FULL (or no RET) and an original of at most
 *			bounce_size_limit bytes; text/rfc822-headers with its header otherwise
 *			(RET=HDRS, a larger original, delay and success notices, postmaster
 *			copies), as Postfix does.
 *
 *	Text that came from elsewhere (remote replies) is masked to printable ASCII. The
 *	client's DSN parameters (NOTIFY, ORCPT, RET, ENVID) arrive as smtpd parsed them,
 *	in mta.mail.Dsn; "not given" (null) means NOTIFY=FAILURE,DELAY and RET=FULL.
 * SETTINGS
 *	myhostname			Reporting-MTA, From, Message-ID
 *	notify_classes			bounce, 2bounce, delay (others are accepted and ignored here)
 *	bounce_notice_recipient		postmaster copies of bounces (default postmaster)
 *	2bounce_notice_recipient	undeliverable bounces (default postmaster)
 *	delay_notice_recipient		postmaster copies of delay warnings (default postmaster)
 *	double_bounce_sender		envelope sender of postmaster notices (default double-bounce)
 *	bounce_size_limit		largest original returned whole (default 50000 bytes)
 *	maximal_queue_lifetime		Will-Retry-Until and the delay notice's wording
 * SEE ALSO
 *	RFC 3461 (SMTP DSN extension), RFC 3464 (delivery status notifications),
 *	postfix/src/bounce/bounce_notify_util.c, bounce_notify_service.c, bounce_warn_service.c
 *--*/
package mta.dsn;

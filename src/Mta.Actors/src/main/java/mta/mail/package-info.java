/*++
 * NAME
 *	mail
 * SUMMARY
 *	mail terms shared by every role: addresses, envelopes, replies, DSN requests
 * DESCRIPTION
 *	MailAddress (local part and domain, the null sender), Envelope (sender, recipients and
 *	their RFC 3461 requests, Dsn), Reply (an SMTP reply with its enhanced status code, in
 *	wire and log form), as Postfix's global/ directory shares its types.
 --*/
package mta.mail;

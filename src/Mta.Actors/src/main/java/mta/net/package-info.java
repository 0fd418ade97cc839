/*++
 * NAME
 *	net
 * SUMMARY
 *	the node's SMTP I/O threads (Postfix's event loop, events.c)
 * DESCRIPTION
 *	EventLoops is the one group of Netty event loops that carries a node's SMTP and LMTP
 *	connections, in (smtpd) and out (the delivery agent's clients), with the channel types
 *	of the transport it runs on: Linux's epoll where Netty's native transport loads, the
 *	JDK's selector elsewhere. Made by the node's master, handed to smtpd and delivery.
 *--*/
package mta.net;

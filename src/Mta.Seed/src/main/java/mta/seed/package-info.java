/*++
 * NAME
 *	seed
 * SUMMARY
 *	a seed-only cluster member (Akka.NET's Lighthouse)
 * DESCRIPTION
 *	bin/mta seed --config FILE runs a member with the role "seed": no SMTP, no queue
 *	entities, no singleton; mail nodes join the cluster through it. It logs membership
 *	changes.
 --*/
package mta.seed;

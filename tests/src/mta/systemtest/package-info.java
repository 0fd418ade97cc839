/**
 * System tests: the real node process against real peers, no mocks.
 *
 * <p>The harness: {@link mta.systemtest.NodeProcess} (config file, start via
 * {@code MTA_NO_BUILD=1 bin/mta node --config FILE}, wait until the SMTP port listens, kill -9,
 * SIGTERM, the log and waiting for a log line), {@link mta.systemtest.SmtpSink} (Postfix's
 * smtp-sink as next hop, one dump file per delivered message, fault options such as
 * {@code -r RCPT} for 4xx and {@code -f RCPT} for 5xx), {@link mta.systemtest.SmtpSource} and
 * {@link mta.systemtest.Swaks} (the clients, output and exit code captured),
 * {@link mta.systemtest.SmtpClient} (raw SMTP for SIZE= and pipelining), {@link mta.systemtest.Ports},
 * {@link mta.systemtest.Postgres} (a schema per test in the shared PostgreSQL) and
 * {@link mta.systemtest.TcpProxy} (a loopback forwarder that can be cut and restored).
 *
 * <p>Every test keeps its files in {@code tests/target/systemtest/CLASS/METHOD/}: the node's
 * {@code node.conf} and {@code node.log} (appended across restarts), and the sinks' dumps.
 * Run them alone with
 * {@code mvn -B -pl tests -am verify -Dtest='mta.systemtest.*Test' -Dsurefire.failIfNoSpecifiedTests=false}.
 * They need the Debian packages postfix (smtp-sink, smtp-source) and swaks, and PostgreSQL at
 * 127.0.0.1:5432 ({@code .ci/run} makes sure of both).
 */
package mta.systemtest;

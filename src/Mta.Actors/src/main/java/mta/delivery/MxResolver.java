package mta.delivery;

import java.net.IDN;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import mta.config.HostPort;
import mta.mail.MailAddress;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.lookup.LookupResult;
import org.xbill.DNS.lookup.LookupSession;
import org.xbill.DNS.lookup.NoSuchDomainException;
import org.xbill.DNS.lookup.NoSuchRRSetException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*++
 * NAME
 *	MxResolver
 * SUMMARY
 *	mail exchanger lookup for the smtp client (Postfix smtp_addr.c)
 * DESCRIPTION
 *	resolve(domain) looks up the MX records of a domain, then the A and AAAA records of
 *	each exchanger, and answers with one of three results:
 *
 *	Hosts	the exchangers to try, most preferred first; exchangers of equal preference
 *		are shuffled on every call (RFC 5321 section 5.1). Within one host, IPv4
 *		addresses come before IPv6 ones, each in the order the DNS gave them. A domain
 *		without MX records (NODATA) is its own exchanger, at preference 0.
 *	Bounce	a permanent failure: the domain does not exist (5.4.4), publishes a null MX
 *		(RFC 7505, 5.1.0), none of its exchangers has an address (5.4.4), or the mail
 *		would loop back to this host (5.4.6).
 *	Defer	a temporary failure: SERVFAIL, REFUSED or a timeout on the MX lookup, or on
 *		every exchanger's address lookup (4.4.3); or we are a backup exchanger and
 *		every better one failed its address lookup (4.4.4). A transient DNS failure
 *		never bounces mail.
 *
 *	The reasons are worded as Postfix logs them, e.g. "Host or domain name not found.
 *	Name service error for name=example.com type=MX: Host not found, try again".
 * LOOP DETECTION
 *	An exchanger is this host when its name is myhostname or one of its addresses is one
 *	of ours (the interfaces, plus any proxy_interfaces the caller passes in). When one
 *	is found, it and every exchanger with the same or a worse preference are dropped
 *	(Postfix's smtp_truncate_self); if nothing is left, the mail loops back to myself.
 * CACHE
 *	Answers, positive and negative, are kept in a dnsjava Cache for as long as their
 *	TTL says. Failures (SERVFAIL, timeouts) are not cached: the next call asks again.
 * THREADS
 *	resolve() never blocks: it returns a CompletionStage that completes on dnsjava's
 *	I/O thread or the common ForkJoinPool, within about attempts x resolvers x timeout
 *	per query. An actor should pipeToSelf the result and never wait on it.
 * SETTINGS
 *	mta.dns.resolvers	host:port list; empty: the system's (/etc/resolv.conf)
 *	mta.dns.timeout		per query and server, default 5s (resolv.conf "timeout:")
 *	myhostname		this host's name, for loop detection
 *	proxy_interfaces	addresses that forward to us, added to the own addresses
 * SEE ALSO
 *	postfix/src/smtp/smtp_addr.c, RFC 5321 section 5, RFC 7505
 *--*/

/**
 * The smtp client's MX lookup: the exchangers of a domain in the order to try them, or why
 * there are none (bounce or defer, with Postfix's enhanced status and wording). See the
 * manual page at the top of this file.
 */
public final class MxResolver {
  private static final Logger log = LoggerFactory.getLogger("smtp");
  /** resolv.conf's default "attempts:" per server. */
  private static final int ATTEMPTS = 2;

  /** What a lookup came to. */
  public sealed interface Result permits Hosts, Bounce, Defer {}

  /** The exchangers to try, most preferred first; never empty. */
  public record Hosts(List<MxHost> hosts) implements Result {
    public Hosts {
      hosts = List.copyOf(hosts);
    }
  }

  /** A permanent failure: bounce the recipients with this enhanced status and reason. */
  public record Bounce(String dsn, String reason) implements Result {}

  /** A temporary failure: defer the recipients with this enhanced status and reason. */
  public record Defer(String dsn, String reason) implements Result {}

  /** One exchanger: its name, MX preference and addresses (never empty). */
  public record MxHost(String name, int preference, List<InetAddress> addresses) {
    public MxHost {
      addresses = List.copyOf(addresses);
    }
  }

  private final LookupSession session;
  private final String myhostname;
  private final Set<InetAddress> ownAddresses;

  /**
   * @param resolvers the name servers to ask, {@code host:port}; empty: the system's
   * @param timeout how long to wait for one server's answer to one query
   * @param myhostname this host's name: an exchanger of that name is this host
   * @param ownAddresses this host's addresses (see {@link #interfaceAddresses()}) plus any
   *     proxy_interfaces: an exchanger with one of them is this host
   */
  public MxResolver(List<HostPort> resolvers, Duration timeout, String myhostname, Set<InetAddress> ownAddresses) {
    ExtendedResolver resolver = resolvers.isEmpty()
        ? new ExtendedResolver()
        : new ExtendedResolver(resolvers.stream()
            .map(r -> (Resolver) new SimpleResolver(new InetSocketAddress(r.host(), r.port())))
            .toList());
    // dnsjava gives each server its own timeout and the whole query an overall one.
    var servers = resolver.getResolvers();
    for (var server : servers) server.setTimeout(timeout);
    resolver.setRetries(ATTEMPTS);
    resolver.setTimeout(timeout.multipliedBy((long) ATTEMPTS * Math.max(1, servers.length)));
    this.session = LookupSession.builder().resolver(resolver).cache(new Cache(DClass.IN)).build();
    this.myhostname = MailAddress.normalizeDomain(myhostname);
    this.ownAddresses = Set.copyOf(ownAddresses);
  }

  /** The addresses of every network interface of this machine, loopback included. */
  public static Set<InetAddress> interfaceAddresses() {
    try {
      return NetworkInterface.networkInterfaces()
          .flatMap(NetworkInterface::inetAddresses)
          .collect(Collectors.toUnmodifiableSet());
    } catch (SocketException e) {
      throw new IllegalStateException("cannot list this host's network interfaces: " + e.getMessage(), e);
    }
  }

  /**
   * The exchangers for {@code domain} (a domain name, not an address literal), or why there
   * are none. Never completes exceptionally.
   */
  public CompletionStage<Result> resolve(String domain) {
    var name = MailAddress.normalizeDomain(domain);
    Name qname;
    try {
      if (name.isEmpty()) throw new IllegalArgumentException("empty domain");
      qname = Name.fromString(IDN.toASCII(name) + ".");
    } catch (TextParseException | IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          new Bounce("5.4.4", "Name service error for name=" + name + " type=MX: Malformed domain name"));
    }
    return query(qname, Type.MX).thenCompose(answer -> switch (answer) {
      case Found found -> exchangers(name, found.records());
      case NoData nodata -> hostAsExchanger(name, qname);
      case NxDomain nx -> done(new Bounce("5.4.4", nx.reason(name, Type.MX)));
      case Failed failed -> done(new Defer("4.4.3", failed.reason(name, Type.MX)));
    });
  }

  // --- MX records found -----------------------------------------------------------------

  private CompletionStage<Result> exchangers(String domain, List<Record> records) {
    var mx = records.stream().filter(MXRecord.class::isInstance).map(MXRecord.class::cast).toList();
    if (mx.size() == 1 && mx.get(0).getTarget().equals(Name.root)) {
      return done(new Bounce("5.1.0", "Domain " + domain + " does not accept mail (nullMX)"));
    }
    var ordered = shuffledByPreference(mx.stream().filter(r -> !r.getTarget().equals(Name.root)).toList());
    if (ordered.isEmpty()) return done(new Bounce("5.4.4", "Name service error for name=" + domain + " type=MX: Malformed or unexpected name server reply"));
    var lookups = ordered.stream().map(r -> addresses(r.getTarget())).toList();
    return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(x -> {
      var found = new ArrayList<MxHost>();
      HostAddresses.Missing firstSoft = null;
      HostAddresses.Missing lastHard = null;
      for (int i = 0; i < ordered.size(); i++) {
        var host = hostName(ordered.get(i).getTarget());
        switch (lookups.get(i).join()) {
          case HostAddresses.Resolved r -> found.add(new MxHost(host, ordered.get(i).getPriority(), r.addresses()));
          case HostAddresses.Missing m when m.soft() -> firstSoft = firstSoft == null ? m : firstSoft;
          case HostAddresses.Missing m -> lastHard = m;
        }
      }
      if (found.isEmpty()) {
        log.warn("no MX host for {} has a valid address record", domain);
        // As in Postfix, a soft error dominates hard ones: perhaps the DNS heals.
        return firstSoft != null ? new Defer("4.4.3", firstSoft.reason()) : new Bounce("5.4.4", lastHard.reason());
      }
      return withoutSelf(domain, ordered.get(0).getPriority(), found);
    });
  }

  /** Sorted by preference, equal preferences in random order. */
  private static List<MXRecord> shuffledByPreference(List<MXRecord> records) {
    var shuffled = new ArrayList<>(records);
    Collections.shuffle(shuffled);
    shuffled.sort(Comparator.comparingInt(MXRecord::getPriority));
    return shuffled;
  }

  /**
   * Postfix's smtp_find_self and smtp_truncate_self: each exchanger dropped gets one log
   * line saying why (it is this host, or it is no better than this host).
   */
  private Result withoutSelf(String domain, int bestPreference, List<MxHost> found) {
    var self = found.stream().filter(this::isSelf).findFirst();
    if (self.isEmpty()) return new Hosts(found);
    int selfPreference = self.get().preference();
    var better = found.stream().filter(h -> h.preference() < selfPreference).toList();
    found.stream().filter(h -> h.preference() >= selfPreference).forEach(h -> log.info(
        "{}: skipping MX host {}[{}] preference {}: {}", domain, h.name(),
        h.addresses().stream().map(InetAddress::getHostAddress).collect(Collectors.joining(",")), h.preference(),
        selfReason(h).orElse("preference not better than this host's (" + selfPreference + ")")));
    if (!better.isEmpty()) return new Hosts(better);
    return bestPreference != found.get(0).preference()
        ? new Defer("4.4.4", "unable to find primary relay for " + domain)
        : new Bounce("5.4.6", "mail for " + domain + " loops back to myself");
  }

  private boolean isSelf(MxHost host) {
    return selfReason(host).isPresent();
  }

  /** Why an exchanger is this host, if it is: its name, or one of its addresses. */
  private Optional<String> selfReason(MxHost host) {
    if (host.name().equals(myhostname)) return Optional.of("it is this host (myhostname " + myhostname + ")");
    return host.addresses().stream().filter(ownAddresses::contains).findFirst()
        .map(a -> "its address " + a.getHostAddress() + " is one of this host's");
  }

  // --- no MX records: the domain is its own exchanger (RFC 5321 section 5.1) ----------------

  private CompletionStage<Result> hostAsExchanger(String domain, Name qname) {
    return addresses(qname).thenApply(found -> switch (found) {
      case HostAddresses.Missing m -> m.soft() ? new Defer("4.4.3", m.reason()) : new Bounce("5.4.4", m.reason());
      case HostAddresses.Resolved r -> {
        var host = new MxHost(domain, 0, r.addresses());
        yield isSelf(host) ? new Bounce("5.4.6", "mail for " + domain + " loops back to myself") : new Hosts(List.of(host));
      }
    });
  }

  // --- address lookups ------------------------------------------------------------------

  /** A host's addresses, or why it has none. */
  private sealed interface HostAddresses {
    record Resolved(List<InetAddress> addresses) implements HostAddresses {}

    record Missing(boolean soft, String reason) implements HostAddresses {}
  }

  /** A and AAAA together: any address is enough; failing that, a soft failure dominates. */
  private CompletableFuture<HostAddresses> addresses(Name host) {
    var v4 = query(host, Type.A);
    var v6 = query(host, Type.AAAA);
    return v4.thenCombine(v6, (a, aaaa) -> {
      var addresses = new ArrayList<InetAddress>();
      for (var answer : List.of(a, aaaa)) {
        if (answer instanceof Found f) {
          f.records().forEach(r -> {
            switch (r) {
              case ARecord ar -> addresses.add(ar.getAddress());
              case AAAARecord ar -> addresses.add(ar.getAddress());
              default -> { }
            }
          });
        }
      }
      var name = hostName(host);
      if (!addresses.isEmpty()) return new HostAddresses.Resolved(addresses);
      if (aaaa instanceof Failed f && !(a instanceof Failed)) return new HostAddresses.Missing(true, f.reason(name, Type.AAAA));
      return new HostAddresses.Missing(a instanceof Failed, ((Answer.Negative) a).reason(name, Type.A));
    });
  }

  private static String hostName(Name name) {
    return MailAddress.normalizeDomain(name.toString(true));
  }

  // --- one DNS query --------------------------------------------------------------------

  /** One query's outcome, as the resolver library's h_errno would have it. */
  private sealed interface Answer {
    /** No records: why, worded as Postfix's dns_lookup does. */
    sealed interface Negative extends Answer {
      String text();

      default String reason(String name, int type) {
        return "Host or domain name not found. Name service error for name=" + name + " type=" + Type.string(type) + ": " + text();
      }
    }
  }

  private record Found(List<Record> records) implements Answer {}

  private record NoData() implements Answer.Negative {
    public String text() { return "Host found but no data record of requested type"; }
  }

  private record NxDomain() implements Answer.Negative {
    public String text() { return "Host not found"; }
  }

  private record Failed() implements Answer.Negative {
    public String text() { return "Host not found, try again"; }
  }

  private CompletableFuture<Answer> query(Name name, int type) {
    return session.lookupAsync(name, type).toCompletableFuture()
        .handle((LookupResult result, Throwable failure) -> {
          if (failure == null) {
            var records = result.getRecords().stream().filter(r -> r.getType() == type).toList();
            return records.isEmpty() ? new NoData() : new Found(records);
          }
          var cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
          return switch (cause) {
            case NoSuchDomainException e -> new NxDomain();
            case NoSuchRRSetException e -> new NoData();
            default -> {
              log.debug("DNS lookup of {}/{} failed: {}", name, Type.string(type), cause.toString());
              yield new Failed();
            }
          };
        });
  }

  private static CompletionStage<Result> done(Result result) {
    return CompletableFuture.completedFuture(result);
  }
}

package mta.smtp;

import java.io.IOException;
import java.net.IDN;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import mta.config.HostPort;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * The DNS as smtpd's restrictions use it (DNSBL, RHSBL, unknown domains and HELO names,
 * permit_mx_backup): one synchronous query at a time, for a session thread that may block,
 * bounded by {@code mta.dns.timeout} per server and try. The name servers are
 * {@code mta.dns.resolvers}, or the system's when that is empty. Nothing is cached here.
 */
public final class SmtpdDns {

  /** How a query went: records found, a definite no (NXDOMAIN or no such records), or a failure. */
  public enum Status { FOUND, NOT_FOUND, RETRY }

  /** @param records of the type asked for (CNAMEs followed by the server are skipped) */
  public record Answer(Status status, List<Record> records, String error) {
    static Answer retry(String error) {
      return new Answer(Status.RETRY, List.of(), error);
    }
  }

  private final Resolver resolver;

  public SmtpdDns(List<HostPort> resolvers, Duration timeout) {
    var resolver = resolvers.isEmpty()
        ? new ExtendedResolver()
        : new ExtendedResolver(resolvers.stream()
            .map(r -> (Resolver) new SimpleResolver(new InetSocketAddress(r.host(), r.port())))
            .toList());
    resolver.setTimeout(timeout);
    resolver.setRetries(1);
    this.resolver = resolver;
  }

  /** Asks for records of {@code type} ({@link Type#A}, {@link Type#MX}...) of a domain name. */
  public Answer query(String domain, int type) {
    Name name;
    try {
      var ascii = IDN.toASCII(domain.endsWith(".") ? domain : domain + ".");
      name = Name.fromString(ascii);
    } catch (TextParseException | IllegalArgumentException e) {
      return new Answer(Status.NOT_FOUND, List.of(), "malformed domain name " + domain);
    }
    try {
      var response = resolver.send(Message.newQuery(Record.newRecord(name, type, DClass.IN)));
      return switch (response.getRcode()) {
        case Rcode.NOERROR -> {
          var records = response.getSection(Section.ANSWER).stream().filter(r -> r.getType() == type).toList();
          yield new Answer(records.isEmpty() ? Status.NOT_FOUND : Status.FOUND, records, null);
        }
        case Rcode.NXDOMAIN -> new Answer(Status.NOT_FOUND, List.of(), null);
        default -> Answer.retry("name service error for name=" + domain + " type=" + Type.string(type)
            + ": " + Rcode.string(response.getRcode()));
      };
    } catch (IOException e) {
      return Answer.retry("name service error for name=" + domain + " type=" + Type.string(type) + ": " + e.getMessage());
    }
  }
}

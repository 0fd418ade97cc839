package mta.smtp;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import mta.mail.MailAddress;
import mta.maps.Cidr;
import mta.routing.TransportResolver;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Type;

/**
 * Who may relay: Postfix's {@code permit_mynetworks}, {@code permit_auth_destination} (the
 * test behind {@code reject_unauth_destination}) and {@code permit_mx_backup}.
 *
 * <p>A client inside {@code mynetworks} may send anywhere; anyone else only to a final
 * destination ({@code mydestination}, virtual alias or mailbox domains) or a
 * {@code relay_domains} domain, as the address resolves (see {@link TransportResolver}): so
 * {@code user%other@ours}, {@code other!user@ours}, {@code "user@other"@ours} and
 * {@code user@other@ours} are mail for {@code other} and refused, and an address that still
 * routes on after resolution ({@code user%other@relay.example}) is refused even to a relay
 * domain (Postfix's {@code allow_untrusted_routing = no}). Source routes never get here: the
 * parser drops them (RFC 5321 §C).
 */
public final class RelayChecks {

  /** What permit_mx_backup found. */
  enum MxBackup { PERMIT, DUNNO, RETRY }

  private final List<Cidr> mynetworks;
  private final TransportResolver resolver;
  private final SmtpdDns dns;
  private final String myhostname;

  /** @param mynetworks networks in Postfix notation ({@code 127.0.0.0/8}, {@code [::1]/128}) */
  public RelayChecks(List<String> mynetworks, TransportResolver resolver, SmtpdDns dns, String myhostname) {
    this.mynetworks = mynetworks.stream().map(Cidr::parse).toList();
    this.resolver = resolver;
    this.dns = dns;
    this.myhostname = MailAddress.normalizeDomain(myhostname);
  }

  boolean permitMynetworks(ClientInfo client) {
    return mynetworks.stream().anyMatch(network -> network.matches(client.address()));
  }

  /** permit_auth_destination. @throws mta.maps.LookupFailure */
  boolean authorizedDestination(MailAddress sender, MailAddress recipient) {
    var resolved = resolver.resolve(sender, recipient);
    return !resolved.routed()
        && (resolved.addressClass().isFinal() || resolved.addressClass() == TransportResolver.AddressClass.RELAY);
  }

  /**
   * permit_mx_backup: like permit_auth_destination, and also a domain whose MX records name
   * this host as a backup, not as a primary exchanger. @throws mta.maps.LookupFailure
   */
  MxBackup mxBackup(MailAddress sender, MailAddress recipient) {
    var resolved = resolver.resolve(sender, recipient);
    if (resolved.routed()) return MxBackup.DUNNO;
    if (resolved.addressClass().isFinal() || resolved.addressClass() == TransportResolver.AddressClass.RELAY) return MxBackup.PERMIT;
    var domain = resolved.recipient().domain();
    if (domain.startsWith("[")) return MxBackup.DUNNO;
    var answer = dns.query(domain, Type.MX);
    if (answer.status() == SmtpdDns.Status.RETRY) return MxBackup.RETRY;
    var mx = answer.records().stream().map(MXRecord.class::cast).sorted(Comparator.comparingInt(MXRecord::getPriority)).toList();
    if (mx.isEmpty()) return MxBackup.DUNNO;
    int best = mx.getFirst().getPriority();
    if (mx.stream().filter(r -> r.getPriority() == best).anyMatch(this::isMe)) return MxBackup.DUNNO;
    return mx.stream().filter(r -> r.getPriority() != best).anyMatch(this::isMe) ? MxBackup.PERMIT : MxBackup.DUNNO;
  }

  /** An exchanger is this host: named myhostname, or one of its addresses is ours. */
  private boolean isMe(MXRecord mx) {
    var host = MailAddress.normalizeDomain(mx.getTarget().toString());
    if (host.equals(myhostname)) return true;
    return Stream.of(Type.A, Type.AAAA)
        .flatMap(type -> dns.query(host, type).records().stream())
        .map(r -> r instanceof ARecord a ? a.getAddress() : ((AAAARecord) r).getAddress())
        .anyMatch(RelayChecks::isLocalAddress);
  }

  private static boolean isLocalAddress(InetAddress address) {
    try {
      return address.isLoopbackAddress() || NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }
}

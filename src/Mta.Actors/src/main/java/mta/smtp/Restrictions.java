package mta.smtp;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import mta.config.ConfigError;
import mta.config.PolicySettings;
import mta.mail.MailAddress;
import mta.mail.Reply;
import mta.maps.Cidr;
import mta.maps.KeyOrder;
import mta.maps.LookupFailure;
import mta.maps.Maps;
import mta.routing.TransportResolver;
import mta.routing.TransportResolver.AddressClass;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/**
 * Postfix's restriction engine ({@code smtpd_check.c}): the restriction lists of each stage,
 * evaluated in order until one says OK (the stage passes), REJECT (the command is refused) or
 * the list ends (DUNNO). See the package manual page for the restrictions and their replies.
 *
 * <p>With {@code smtpd_delay_reject} (the default) the client, HELO and sender stages are
 * evaluated at RCPT, each in turn, then {@code smtpd_relay_restrictions}, then
 * {@code smtpd_recipient_restrictions}; an OK in one list does not skip the next. Last, with
 * {@code smtpd_reject_unlisted_recipient}, the recipient must exist in its address class's
 * table. A bare {@code postmaster} is always accepted.
 *
 * <p>A table that cannot answer or a broken setting never makes a recipient acceptable: the
 * stage ends with {@code 451 4.3.0 <x>: Temporary lookup failure} or
 * {@code 451 4.3.5 Server configuration error}. Thread-safe; one instance serves every session.
 */
public final class Restrictions implements SmtpChecks {
  private static final Logger log = LoggerFactory.getLogger("smtpd");
  private static final Pattern DSN = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s+|$)(.*)", Pattern.DOTALL);
  private static final int MAX_RECURSION = 100;

  /** One element of a restriction list. */
  public sealed interface Restriction permits Builtin, Access, BareTable, Dnsbl, Policy, ClassRef {}

  /** Restrictions without an argument, under Postfix's names (and old aliases). */
  public enum Builtin implements Restriction {
    PERMIT("permit"),
    REJECT("reject"),
    DEFER("defer"),
    DEFER_IF_PERMIT("defer_if_permit"),
    DEFER_IF_REJECT("defer_if_reject"),
    PERMIT_MYNETWORKS("permit_mynetworks"),
    PERMIT_SASL_AUTHENTICATED("permit_sasl_authenticated"),
    PERMIT_MX_BACKUP("permit_mx_backup"),
    PERMIT_AUTH_DESTINATION("permit_auth_destination"),
    REJECT_UNAUTH_DESTINATION("reject_unauth_destination"),
    DEFER_UNAUTH_DESTINATION("defer_unauth_destination"),
    REJECT_UNAUTH_PIPELINING("reject_unauth_pipelining"),
    REJECT_INVALID_HELO_HOSTNAME("reject_invalid_helo_hostname", "reject_invalid_hostname"),
    REJECT_NON_FQDN_HELO_HOSTNAME("reject_non_fqdn_helo_hostname", "reject_non_fqdn_hostname"),
    REJECT_UNKNOWN_HELO_HOSTNAME("reject_unknown_helo_hostname", "reject_unknown_hostname"),
    REJECT_UNKNOWN_CLIENT_HOSTNAME("reject_unknown_client_hostname", "reject_unknown_client"),
    REJECT_NON_FQDN_SENDER("reject_non_fqdn_sender"),
    REJECT_NON_FQDN_RECIPIENT("reject_non_fqdn_recipient"),
    REJECT_UNKNOWN_SENDER_DOMAIN("reject_unknown_sender_domain"),
    REJECT_UNKNOWN_RECIPIENT_DOMAIN("reject_unknown_recipient_domain"),
    REJECT_UNLISTED_SENDER("reject_unlisted_sender"),
    REJECT_UNLISTED_RECIPIENT("reject_unlisted_recipient", "check_recipient_maps"),
    REJECT_MULTI_RECIPIENT_BOUNCE("reject_multi_recipient_bounce");

    private static final Map<String, Builtin> BY_NAME = new HashMap<>();

    static {
      for (var b : values()) {
        for (var name : b.names) BY_NAME.put(name, b);
      }
    }

    private final String[] names;

    Builtin(String... names) {
      this.names = names;
    }
  }

  /** What a check looks at: the client, the HELO name, the sender or the recipient. */
  public enum Target { CLIENT, HELO, SENDER, RECIPIENT }

  /** {@code check_client_access type:table} and its siblings. */
  public record Access(Target target, Maps table) implements Restriction {}

  /** A {@code type:table} on its own: {@code check_<stage>_access} of the list's stage. */
  public record BareTable(Maps table) implements Restriction {}

  /**
   * {@code reject_rbl_client zone} ({@code rhs} false: the client address, reversed) and
   * {@code reject_rhsbl_client/helo/sender/recipient zone} (a domain name). A zone may end in
   * {@code =127.0.0.2} or {@code =127.0.0.[2..11]}: only such answers count.
   */
  public record Dnsbl(Target target, boolean rhs, String zone) implements Restriction {}

  /** {@code check_policy_service inet:host:port}. */
  public record Policy(PolicyClient server) implements Restriction {}

  /** A name from {@code smtpd_restriction_classes}. */
  public record ClassRef(String name) implements Restriction {}

  /** The lists of each stage and the restriction classes, parsed. */
  public record Stages(
      List<Restriction> client,
      List<Restriction> helo,
      List<Restriction> sender,
      List<Restriction> relay,
      List<Restriction> recipient,
      List<Restriction> data,
      List<Restriction> endOfData,
      Map<String, List<Restriction>> classes) {}

  /**
   * The tables that say whether an address exists (smtpd_reject_unlisted_recipient): an
   * address found in a rewriting table exists; otherwise it must be in the table of its class.
   */
  public record RecipientTables(
      Maps localRecipientMaps,
      Maps virtualMailboxMaps,
      Maps relayRecipientMaps,
      Maps virtualAliasMaps,
      Maps canonicalMaps,
      Maps senderCanonicalMaps,
      Maps recipientCanonicalMaps) {}

  /**
   * @param policyDefaultAction {@code smtpd_policy_service_default_action}, used when a policy
   *     server cannot be asked
   */
  public record Settings(boolean delayReject, boolean rejectUnlistedRecipient, String policyDefaultAction) {}

  private final Stages stages;
  private final RecipientTables tables;
  private final Settings settings;
  private final RelayChecks relay;
  private final TransportResolver resolver;
  private final SmtpdDns dns;
  private final KeyOrder keys;
  private final Parser runtime;

  public Restrictions(Stages stages, RecipientTables tables, Settings settings, RelayChecks relay,
      TransportResolver resolver, SmtpdDns dns, KeyOrder keys, Duration policyTimeout) {
    this.stages = stages;
    this.tables = tables;
    this.settings = settings;
    this.relay = relay;
    this.resolver = resolver;
    this.dns = dns;
    this.keys = keys;
    this.runtime = new Parser(stages.classes().keySet(), policyTimeout, false);
  }

  // --- parsing ------------------------------------------------------------------------------

  /**
   * Parses every restriction list of the policy settings; a mistake is a {@link ConfigError}
   * naming the setting and its file.
   */
  public static Stages stages(PolicySettings policy) {
    var smtpd = policy.smtpd();
    var parser = new Parser(smtpd.restrictionClasses().keySet(), smtpd.policyServiceTimeout(), true);
    Function<String, Function<List<String>, List<Restriction>>> in = key -> items -> {
      try {
        return parser.parse(items);
      } catch (IllegalArgumentException | ConfigError e) {
        throw policy.error(key, e.getMessage());
      }
    };
    var classes = new HashMap<String, List<Restriction>>();
    smtpd.restrictionClasses().forEach((name, items) -> classes.put(name, in.apply("mta.smtpd_restriction_classes." + name).apply(items)));
    var stages = new Stages(
        in.apply("mta.smtpd_client_restrictions").apply(smtpd.clientRestrictions()),
        in.apply("mta.smtpd_helo_restrictions").apply(smtpd.heloRestrictions()),
        in.apply("mta.smtpd_sender_restrictions").apply(smtpd.senderRestrictions()),
        in.apply("mta.smtpd_relay_restrictions").apply(smtpd.relayRestrictions()),
        in.apply("mta.smtpd_recipient_restrictions").apply(smtpd.recipientRestrictions()),
        in.apply("mta.smtpd_data_restrictions").apply(smtpd.dataRestrictions()),
        in.apply("mta.smtpd_end_of_data_restrictions").apply(smtpd.endOfDataRestrictions()),
        Map.copyOf(classes));
    // Postfix's safety net: no configuration without a restriction that refuses relaying.
    if (!refusesByDefault(stages.relay(), stages.classes(), new HashSet<>())
        && !refusesByDefault(stages.recipient(), stages.classes(), new HashSet<>())) {
      throw policy.error("mta.smtpd_relay_restrictions", "in smtpd_relay_restrictions or smtpd_recipient_restrictions, "
          + "specify at least one working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer "
          + "or defer_if_permit (anything else makes an open relay)");
    }
    return stages;
  }

  /** Whether a list (or a class it names) ends in a refusal before any unconditional permit. */
  private static boolean refusesByDefault(List<Restriction> list, Map<String, List<Restriction>> classes, Set<String> seen) {
    for (var restriction : list) {
      switch (restriction) {
        case Builtin b when b == Builtin.PERMIT -> {
          return false;
        }
        case Builtin b when Set.of(Builtin.REJECT_UNAUTH_DESTINATION, Builtin.DEFER_UNAUTH_DESTINATION, Builtin.REJECT,
            Builtin.DEFER, Builtin.DEFER_IF_PERMIT).contains(b) -> {
          return true;
        }
        case ClassRef(var name) when seen.add(name) && refusesByDefault(classes.get(name), classes, seen) -> {
          return true;
        }
        default -> { }
      }
    }
    return false;
  }

  /**
   * Reads restriction lists: Postfix's names, a {@code type:table} after the
   * {@code check_*_access} that takes it, a zone after {@code reject_rbl_client}, a server
   * after {@code check_policy_service}, or a restriction class name. One parser shares its
   * policy server connections among all the lists it reads.
   */
  private static final class Parser {
    private final Set<String> classNames;
    private final Duration policyTimeout;
    private final boolean tablesAllowed;
    private final Map<String, PolicyClient> policies = new HashMap<>();

    /** @param tablesAllowed false inside access table results, where Postfix forbids tables */
    Parser(Set<String> classNames, Duration policyTimeout, boolean tablesAllowed) {
      this.classNames = Set.copyOf(classNames);
      this.policyTimeout = policyTimeout;
      this.tablesAllowed = tablesAllowed;
    }

    /**
     * @param items as configured; each may hold several, separated by commas or spaces
     * @throws IllegalArgumentException naming what is wrong, for the caller to put in context
     * @throws mta.config.ConfigError for a table that cannot be opened
     */
    List<Restriction> parse(List<String> items) {
      var words = items.stream().flatMap(i -> Maps.split(i).stream()).toList();
      var list = new ArrayList<Restriction>();
      for (int i = 0; i < words.size(); i++) {
        var word = words.get(i);
        var name = word.toLowerCase(Locale.ROOT);
        var builtin = Builtin.BY_NAME.get(name);
        if (builtin != null) {
          list.add(builtin);
          continue;
        }
        if (word.indexOf(':') > 0) {
          list.add(new BareTable(table(word, "a table")));
          continue;
        }
        var needsArgument = switch (name) {
          case "check_client_access", "check_helo_access", "check_sender_access", "check_recipient_access",
              "reject_rbl_client", "reject_rbl", "reject_rhsbl_client", "reject_rhsbl_helo", "reject_rhsbl_sender",
              "reject_rhsbl_recipient", "check_policy_service" -> true;
          default -> false;
        };
        if (!needsArgument) {
          if (!classNames.contains(word)) throw new IllegalArgumentException("unknown smtpd restriction: \"" + word + "\"");
          list.add(new ClassRef(word));
          continue;
        }
        if (i + 1 == words.size()) throw new IllegalArgumentException("restriction " + word + " requires an argument");
        var argument = words.get(++i);
        list.add(switch (name) {
          case "check_client_access" -> new Access(Target.CLIENT, table(argument, word));
          case "check_helo_access" -> new Access(Target.HELO, table(argument, word));
          case "check_sender_access" -> new Access(Target.SENDER, table(argument, word));
          case "check_recipient_access" -> new Access(Target.RECIPIENT, table(argument, word));
          case "reject_rbl_client", "reject_rbl" -> new Dnsbl(Target.CLIENT, false, zone(argument));
          case "reject_rhsbl_client" -> new Dnsbl(Target.CLIENT, true, zone(argument));
          case "reject_rhsbl_helo" -> new Dnsbl(Target.HELO, true, zone(argument));
          case "reject_rhsbl_sender" -> new Dnsbl(Target.SENDER, true, zone(argument));
          case "reject_rhsbl_recipient" -> new Dnsbl(Target.RECIPIENT, true, zone(argument));
          default -> new Policy(policies.computeIfAbsent(argument, a -> new PolicyClient(a, policyTimeout)));
        });
      }
      return List.copyOf(list);
    }

    private Maps table(String spec, String what) {
      if (spec.indexOf(':') <= 0) throw new IllegalArgumentException(what + " requires type:table, got \"" + spec + "\"");
      if (!tablesAllowed) throw new IllegalArgumentException("do not specify lookup tables inside SMTPD access maps: " + spec);
      return Maps.open(spec, List.of(spec));
    }

    private static String zone(String argument) {
      int eq = argument.indexOf('=');
      if (eq >= 0) DnsblFilter.parse(argument.substring(eq + 1));
      return argument;
    }
  }

  /** A DNSBL answer filter, {@code 127.0.0.2} or {@code 127.0.[0..255].[2;4;8..11]}. */
  private record DnsblFilter(List<List<int[]>> octets) {
    static DnsblFilter parse(String text) {
      var parts = text.split("\\.(?![^\\[]*\\])", -1); // dots outside [...]
      if (parts.length != 4) throw new IllegalArgumentException("bad DNSBL reply filter: " + text);
      var octets = new ArrayList<List<int[]>>();
      for (var part : parts) {
        var ranges = new ArrayList<int[]>();
        var inner = part.startsWith("[") && part.endsWith("]") ? part.substring(1, part.length() - 1) : part;
        for (var range : inner.split(";")) {
          var ends = range.split("\\.\\.", -1);
          try {
            int low = Integer.parseInt(ends[0]);
            int high = ends.length > 1 ? Integer.parseInt(ends[1]) : low;
            if (ends.length > 2 || low < 0 || high > 255 || low > high) throw new NumberFormatException();
            ranges.add(new int[] {low, high});
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad DNSBL reply filter: " + text);
          }
        }
        octets.add(ranges);
      }
      return new DnsblFilter(octets);
    }

    boolean matches(InetAddress address) {
      byte[] b = address.getAddress();
      if (b.length != 4) return false;
      for (int i = 0; i < 4; i++) {
        int octet = b[i] & 0xff;
        if (octets.get(i).stream().noneMatch(r -> octet >= r[0] && octet <= r[1])) return false;
      }
      return true;
    }
  }

  // --- the stages ---------------------------------------------------------------------------

  @Override
  public Verdict connect(SmtpdState state) {
    if (settings.delayReject()) return Verdict.DUNNO;
    return evaluate(state, null, Evaluation::client);
  }

  @Override
  public Verdict helo(SmtpdState state) {
    if (settings.delayReject()) return Verdict.DUNNO;
    return evaluate(state, state.deferIfPermit(), Evaluation::helo);
  }

  @Override
  public Verdict mail(SmtpdState state) {
    if (settings.delayReject()) return Verdict.DUNNO;
    return evaluate(state, state.deferIfPermit(), Evaluation::sender);
  }

  @Override
  public Verdict rcpt(SmtpdState state) {
    var rcpt = state.recipient();
    if (rcpt.domain().isEmpty() && rcpt.localPart().equalsIgnoreCase("postmaster")) return Verdict.DUNNO;
    return evaluate(state, settings.delayReject() ? null : state.deferIfPermit(), ev -> {
      if (settings.delayReject()) {
        for (var stage : List.<StageCall>of(Evaluation::client, Evaluation::helo, Evaluation::sender)) {
          if (stage.run(ev) == Status.REJECT) return Status.REJECT;
        }
      }
      var subject = ev.subject(Target.RECIPIENT);
      var status = ev.stage(stages.relay(), subject, Target.RECIPIENT);
      if (status != Status.REJECT) status = ev.stage(stages.recipient(), subject, Target.RECIPIENT);
      if (status != Status.REJECT && ev.deferIfPermit != null) status = ev.refuse(ev.deferIfPermit);
      if (status != Status.REJECT && settings.rejectUnlistedRecipient() && !ev.unlistedChecked && !ev.discarding()) {
        status = ev.unlisted(rcpt, Target.RECIPIENT);
      }
      return status;
    });
  }

  @Override
  public Verdict data(SmtpdState state) {
    return evaluate(state, null, ev -> ev.endStage(stages.data(), new Subject("DATA", "Data command")));
  }

  @Override
  public Verdict endOfData(SmtpdState state) {
    return evaluate(state, null, ev -> ev.endStage(stages.endOfData(), new Subject("END-OF-MESSAGE", "End-of-data")));
  }

  private interface StageCall {
    Status run(Evaluation ev);
  }

  private Verdict evaluate(SmtpdState state, Reply carried, StageCall call) {
    var ev = new Evaluation(state, carried);
    Status status;
    try {
      status = call.run(ev);
    } catch (Abort abort) {
      return new Verdict(abort.reply, null, ev.hold, ev.discard);
    }
    return new Verdict(status == Status.REJECT ? ev.reply : null, ev.deferIfPermit, ev.hold, ev.discard);
  }

  // --- one evaluation -----------------------------------------------------------------------

  private enum Status { DUNNO, OK, REJECT }

  /** Who is refused, for the reply: {@code <x@y>: Recipient address rejected: ...}. */
  private record Subject(String name, String kind) {
    String rejected(String text) {
      return "<" + name + ">: " + kind + " rejected: " + text;
    }
  }

  /** Ends an evaluation at once with a temporary error (Postfix's longjmp). */
  private static final class Abort extends RuntimeException {
    final Reply reply;

    Abort(Reply reply) {
      super(reply.oneLine(), null, false, false);
      this.reply = reply;
    }
  }

  /** The state of one stage's evaluation; Postfix keeps the same in its SMTPD_STATE. */
  private final class Evaluation {
    final SmtpdState state;
    Reply reply;
    Reply deferIfPermit;
    Reply deferIfReject;
    boolean hold;
    boolean discard;
    boolean unlistedChecked;
    int recursion;
    Target defaultTarget;

    Evaluation(SmtpdState state, Reply carried) {
      this.state = state;
      this.deferIfPermit = carried;
    }

    boolean discarding() {
      return discard || state.discarded();
    }

    Status client() {
      return stage(stages.client(), subject(Target.CLIENT), Target.CLIENT);
    }

    Status helo() {
      return state.heloName() == null ? Status.DUNNO : stage(stages.helo(), subject(Target.HELO), Target.HELO);
    }

    Status sender() {
      return state.sender() == null ? Status.DUNNO : stage(stages.sender(), subject(Target.SENDER), Target.SENDER);
    }

    /** DATA and END-OF-MESSAGE: a fresh defer_if_permit, and its deferral at the end. */
    Status endStage(List<Restriction> list, Subject subject) {
      deferIfPermit = null;
      var status = stage(list, subject, null);
      return status != Status.REJECT && deferIfPermit != null ? refuse(deferIfPermit) : status;
    }

    Status stage(List<Restriction> list, Subject subject, Target target) {
      deferIfReject = null;
      recursion = 0;
      defaultTarget = target;
      return list.isEmpty() ? Status.DUNNO : run(list, subject);
    }

    Subject subject(Target target) {
      return switch (target) {
        case CLIENT -> new Subject(state.client().toString(), "Client host");
        case HELO -> new Subject(state.heloName(), "Helo command");
        case SENDER -> new Subject(state.sender().toString(), "Sender address");
        case RECIPIENT -> new Subject(state.recipient().toString(), "Recipient address");
      };
    }

    Status run(List<Restriction> list, Subject subject) {
      if (++recursion > MAX_RECURSION) throw serverError("restriction classes nest too deeply (a loop?)");
      try {
        var status = Status.DUNNO;
        for (var restriction : list) {
          if (discarding()) break;
          status = apply(restriction, subject);
          if (status != Status.DUNNO) break;
          if (deferIfPermit != null && deferIfReject != null) break;
        }
        return status;
      } finally {
        recursion--;
      }
    }

    private Status apply(Restriction restriction, Subject subject) {
      return switch (restriction) {
        case Builtin builtin -> builtin(builtin, subject);
        case Access(var target, var table) -> access(target, table);
        case BareTable(var table) -> {
          if (defaultTarget == null) throw serverError("a bare table (" + table + ") needs check_*_access before it here");
          yield access(defaultTarget, table);
        }
        case Dnsbl dnsbl -> dnsbl(dnsbl);
        case Policy(var server) -> policy(server, subject);
        case ClassRef(var name) -> {
          var list = stages.classes().get(name);
          if (list == null) throw serverError("unknown smtpd restriction: \"" + name + "\"");
          yield run(list, subject);
        }
      };
    }

    private Status builtin(Builtin builtin, Subject subject) {
      var rcpt = state.recipient();
      var sender = state.sender();
      var helo = state.heloName();
      boolean realSender = sender != null && !sender.isNullSender();
      return switch (builtin) {
        case PERMIT -> Status.OK;
        case REJECT -> reject(554, "5.7.1", subject.rejected("Access denied"));
        case DEFER -> reject(450, "4.3.2", subject.rejected("Try again later"));
        case DEFER_IF_PERMIT -> deferIfPermit(450, "4.7.0", subject.rejected("defer_if_permit requested"));
        case DEFER_IF_REJECT -> deferIfReject(450, "4.7.0", subject.rejected("defer_if_reject requested"));
        case PERMIT_MYNETWORKS -> relay.permitMynetworks(state.client()) ? Status.OK : Status.DUNNO;
        case PERMIT_SASL_AUTHENTICATED -> state.sasl() != null ? Status.OK : Status.DUNNO;
        case PERMIT_AUTH_DESTINATION -> rcpt != null && authorized(rcpt) ? Status.OK : Status.DUNNO;
        case REJECT_UNAUTH_DESTINATION, DEFER_UNAUTH_DESTINATION -> rcpt == null || authorized(rcpt) ? Status.DUNNO
            : builtin == Builtin.REJECT_UNAUTH_DESTINATION
                ? reject(554, "5.7.1", "<" + rcpt + ">: Relay access denied")
                : reject(454, "4.7.1", "<" + rcpt + ">: Relay access denied");
        case PERMIT_MX_BACKUP -> rcpt == null ? Status.DUNNO : switch (lookup(rcpt, () -> relay.mxBackup(envelopeSender(), rcpt))) {
          case PERMIT -> Status.OK;
          case DUNNO -> Status.DUNNO;
          case RETRY -> deferIfReject(450, "4.4.4", subject(Target.RECIPIENT).rejected("Unable to look up mail exchanger information"));
        };
        case REJECT_UNAUTH_PIPELINING -> state.improperPipelining()
            ? reject(503, "5.5.0", subject.rejected("Improper use of SMTP command pipelining")) : Status.DUNNO;
        case REJECT_INVALID_HELO_HOSTNAME -> helo == null ? Status.DUNNO : helo.startsWith("[") ? addressLiteral(helo)
            : validHostname(trimDot(helo)) || Cidr.address(helo) != null ? Status.DUNNO
            : reject(501, "5.5.2", subject(Target.HELO).rejected("Invalid name"));
        case REJECT_NON_FQDN_HELO_HOSTNAME -> helo == null ? Status.DUNNO : helo.startsWith("[") ? addressLiteral(helo)
            : validHostname(trimDot(helo)) && trimDot(helo).indexOf('.') > 0 ? Status.DUNNO
            : reject(504, "5.5.2", subject(Target.HELO).rejected("need fully-qualified hostname"));
        case REJECT_UNKNOWN_HELO_HOSTNAME -> helo == null ? Status.DUNNO : helo.startsWith("[") ? addressLiteral(helo) : unknownHost(helo);
        case REJECT_UNKNOWN_CLIENT_HOSTNAME -> !state.client().hostname().equals("unknown") ? Status.DUNNO
            : reject(450, "4.7.25", "Client host rejected: cannot find your hostname, [" + state.client().addressText() + "]");
        case REJECT_NON_FQDN_SENDER -> realSender ? nonFqdn(sender, Target.SENDER) : Status.DUNNO;
        case REJECT_NON_FQDN_RECIPIENT -> rcpt != null ? nonFqdn(rcpt, Target.RECIPIENT) : Status.DUNNO;
        case REJECT_UNKNOWN_SENDER_DOMAIN -> realSender ? unknownDomain(sender, Target.SENDER) : Status.DUNNO;
        case REJECT_UNKNOWN_RECIPIENT_DOMAIN -> rcpt != null ? unknownDomain(rcpt, Target.RECIPIENT) : Status.DUNNO;
        case REJECT_UNLISTED_SENDER -> realSender ? unlisted(sender, Target.SENDER) : Status.DUNNO;
        case REJECT_UNLISTED_RECIPIENT -> rcpt != null ? unlisted(rcpt, Target.RECIPIENT) : Status.DUNNO;
        case REJECT_MULTI_RECIPIENT_BOUNCE -> sender != null && sender.isNullSender()
            && state.recipientCount() > (state.where().equals("RCPT") ? 0 : 1)
            ? reject(550, "5.5.3", subject.rejected("Multi-recipient bounce")) : Status.DUNNO;
      };
    }

    /** The sender, for resolving a recipient ({@code <>} outside a transaction). */
    private MailAddress envelopeSender() {
      return state.sender() == null ? MailAddress.NULL_SENDER : state.sender();
    }

    private boolean authorized(MailAddress rcpt) {
      return lookup(rcpt, () -> relay.authorizedDestination(envelopeSender(), rcpt));
    }

    /** Runs a lookup for {@code who}; a table that cannot answer ends the evaluation with 451 4.3.0. */
    private <T> T lookup(MailAddress who, Supplier<T> lookup) {
      try {
        return lookup.get();
      } catch (LookupFailure e) {
        log.warn("warning: {}", e.getMessage());
        throw new Abort(Reply.of(451, "4.3.0", "<" + who + ">: Temporary lookup failure"));
      }
    }

    // --- access tables --------------------------------------------------------------------

    private Status access(Target target, Maps table) {
      List<Maps.Key> search;
      MailAddress address = null;
      boolean routed = false;
      switch (target) {
        case CLIENT -> search = KeyOrder.client(state.client().hostname(), state.client().addressText());
        case HELO -> {
          if (state.heloName() == null) return Status.DUNNO;
          search = KeyOrder.domain(state.heloName());
        }
        default -> {
          address = target == Target.SENDER ? state.sender() : state.recipient();
          if (address == null) return Status.DUNNO;
          if (address.isNullSender()) {
            search = List.of(Maps.Key.full("<>"));
          } else {
            var who = address;
            var resolved = lookup(who, () -> resolver.resolve(target == Target.SENDER ? MailAddress.NULL_SENDER : envelopeSender(), who));
            routed = resolved.routed();
            search = keys.access(resolved.recipient());
          }
        }
      }
      String value;
      try {
        value = table.search(search).map(Maps.Found::value).orElse(null);
      } catch (LookupFailure e) {
        log.warn("warning: {}", e.getMessage());
        value = "451 4.3.5 Server configuration error";
      }
      if (value == null) return Status.DUNNO;
      var status = tableResult(table.title(), value, subject(target));
      // Source-routed recipients are too suspicious for an OK (Postfix's SUSPICIOUS).
      return status == Status.OK && target == Target.RECIPIENT && routed ? Status.DUNNO : status;
    }

    /** An access table's (or policy server's) answer: Postfix's {@code check_table_result}. */
    private Status tableResult(String table, String value, Subject subject) {
      var trimmed = value.strip();
      int space = 0;
      while (space < trimmed.length() && !Character.isWhitespace(trimmed.charAt(space))) space++;
      var command = trimmed.substring(0, space).toUpperCase(Locale.ROOT);
      var text = trimmed.substring(space).strip();
      switch (command) {
        case "DUNNO":
          return Status.DUNNO;
        case "OK", "RELAY":
          return Status.OK;
        case "REJECT": {
          var d = dsnSplit("5.7.1", text, subject);
          return reject(554, d[0], subject.rejected(d[1].isEmpty() ? "Access denied" : d[1]));
        }
        case "DEFER": {
          var d = dsnSplit("4.7.1", text, subject);
          return reject(450, d[0], subject.rejected(d[1].isEmpty() ? "Access denied" : d[1]));
        }
        case "DEFER_IF_PERMIT", "DEFER_IF_REJECT": {
          var d = dsnSplit("4.7.1", text, subject);
          var reason = subject.rejected(d[1].isEmpty() ? "Service unavailable" : d[1]);
          return command.equals("DEFER_IF_PERMIT") ? deferIfPermit(450, d[0], reason) : deferIfReject(450, d[0], reason);
        }
        case "INFO", "WARN":
          log.info(state.logLine(command.toLowerCase(Locale.ROOT), text));
          return Status.DUNNO;
        case "HOLD":
          if (!hold) log.info(state.logLine("hold", "<" + subject.name() + ">: " + subject.kind() + " " + (text.isEmpty() ? "triggers HOLD action" : text)));
          hold = true;
          return Status.DUNNO;
        case "DISCARD":
          log.info(state.logLine("discard", "<" + subject.name() + ">: " + subject.kind() + " " + (text.isEmpty() ? "triggers DISCARD action" : text)));
          discard = true;
          return Status.OK;
        case "FILTER", "REDIRECT", "BCC", "PREPEND":
          log.warn("warning: access table {}: action {} is not supported; ignored", table, command);
          return Status.DUNNO;
        default:
          break;
      }
      if (trimmed.chars().allMatch(Character::isDigit)) return Status.OK; // an out-of-band time stamp
      if (command.length() == 3 && !text.isEmpty() && (command.charAt(0) == '4' || command.charAt(0) == '5')
          && Character.isDigit(command.charAt(1)) && Character.isDigit(command.charAt(2))) {
        var d = dsnSplit(command.charAt(0) + ".7.1", text, subject);
        return reject(Integer.parseInt(command), d[0], subject.rejected(d[1].isEmpty() ? "Access denied" : d[1]));
      }
      if (recursion > MAX_RECURSION) throw serverError("access table " + table + " entry " + value + " causes unreasonable recursion");
      List<Restriction> list;
      try {
        list = runtime.parse(List.of(trimmed));
      } catch (IllegalArgumentException e) {
        throw serverError("access table " + table + ": " + e.getMessage());
      }
      return list.isEmpty() ? Status.OK : run(list, subject);
    }

    // --- DNS --------------------------------------------------------------------------------

    private Status dnsbl(Dnsbl dnsbl) {
      String what;
      String domain;
      switch (dnsbl.target()) {
        case CLIENT -> {
          what = dnsbl.rhs() ? state.client().hostname() : state.client().addressText();
          if (dnsbl.rhs() && what.equals("unknown")) return Status.DUNNO;
          domain = dnsbl.rhs() ? what : reversed(state.client().address());
        }
        case HELO -> {
          what = state.heloName();
          if (what == null || what.startsWith("[")) return Status.DUNNO;
          domain = trimDot(what);
        }
        default -> {
          var address = dnsbl.target() == Target.SENDER ? state.sender() : state.recipient();
          if (address == null || address.isNullSender() || address.domain().isEmpty() || address.domain().startsWith("[")) return Status.DUNNO;
          what = address.toString();
          domain = address.domain();
        }
      }
      int eq = dnsbl.zone().indexOf('=');
      var zone = eq < 0 ? dnsbl.zone() : dnsbl.zone().substring(0, eq);
      var filter = eq < 0 ? null : DnsblFilter.parse(dnsbl.zone().substring(eq + 1));
      var query = domain + "." + zone;
      var answer = dns.query(query, Type.A);
      if (answer.status() == SmtpdDns.Status.RETRY) log.warn("warning: {}: RBL lookup error: {}", query, answer.error());
      if (answer.status() != SmtpdDns.Status.FOUND) return Status.DUNNO;
      if (filter != null && answer.records().stream().noneMatch(r -> filter.matches(((ARecord) r).getAddress()))) return Status.DUNNO;
      var txt = dns.query(query, Type.TXT).records().stream()
          .map(r -> String.join("", ((TXTRecord) r).getStrings())).findFirst().orElse("");
      return reject(554, "5.7.1", "Service unavailable; " + subject(dnsbl.target()).kind() + " [" + what + "] blocked using "
          + zone + (txt.isEmpty() ? "" : "; " + txt));
    }

    private Status unknownHost(String helo) {
      var name = trimDot(helo);
      var answers = List.of(dns.query(name, Type.A), dns.query(name, Type.AAAA), dns.query(name, Type.MX));
      if (answers.stream().anyMatch(a -> a.status() == SmtpdDns.Status.FOUND)) return Status.DUNNO;
      var reason = subject(Target.HELO).rejected("Host not found");
      return answers.stream().anyMatch(a -> a.status() == SmtpdDns.Status.RETRY)
          ? deferIfPermit(450, "4.7.1", reason) : reject(450, "4.7.1", reason);
    }

    private Status unknownDomain(MailAddress address, Target target) {
      boolean isSender = target == Target.SENDER;
      var resolved = lookup(address, () -> resolver.resolve(isSender ? MailAddress.NULL_SENDER : envelopeSender(), address));
      var domain = resolved.recipient().domain();
      if (resolved.addressClass().isFinal() || domain.startsWith("[")) return Status.DUNNO;
      var dsn = isSender ? "4.1.8" : "4.1.2";
      var subject = subject(target);
      var mx = dns.query(domain, Type.MX);
      if (mx.status() == SmtpdDns.Status.FOUND) {
        boolean nullMx = mx.records().size() == 1 && ((MXRecord) mx.records().getFirst()).getTarget().equals(Name.root);
        return !nullMx ? Status.DUNNO : reject(isSender ? 550 : 556, isSender ? "5.7.27" : "5.1.10",
            subject.rejected("Domain " + domain + " does not accept mail (nullMX)"));
      }
      var addresses = List.of(mx, dns.query(domain, Type.A), dns.query(domain, Type.AAAA));
      if (addresses.stream().anyMatch(a -> a.status() == SmtpdDns.Status.FOUND)) return Status.DUNNO;
      return addresses.stream().anyMatch(a -> a.status() == SmtpdDns.Status.RETRY)
          ? deferIfPermit(450, dsn, subject.rejected("Domain not found"))
          : reject(450, dsn, subject.rejected("Domain not found"));
    }

    // --- syntax -----------------------------------------------------------------------------

    private Status nonFqdn(MailAddress address, Target target) {
      var domain = trimDot(address.domain());
      if (domain.startsWith("[") && domain.endsWith("]")) return Status.DUNNO;
      return !domain.isEmpty() && validHostname(domain) && domain.indexOf('.') > 0 ? Status.DUNNO
          : reject(504, "5.5.2", subject(target).rejected("need fully-qualified address"));
    }

    private Status addressLiteral(String helo) {
      var inner = helo.endsWith("]") ? helo.substring(1, helo.length() - 1) : "";
      var address = inner.regionMatches(true, 0, "IPv6:", 0, 5) ? inner.substring(5) : inner;
      return Cidr.address(address) != null ? Status.DUNNO : reject(501, "5.5.2", subject(Target.HELO).rejected("Invalid ip address"));
    }

    // --- policy delegation ------------------------------------------------------------------

    private Status policy(PolicyClient server, Subject subject) {
      var attributes = new LinkedHashMap<String, String>();
      attributes.put("request", "smtpd_access_policy");
      attributes.put("protocol_state", state.where());
      attributes.put("protocol_name", state.protocol());
      attributes.put("client_address", state.client().addressText());
      attributes.put("client_name", state.client().hostname());
      attributes.put("client_port", Integer.toString(state.client().port()));
      attributes.put("reverse_client_name", state.client().hostname());
      attributes.put("helo_name", state.heloName() == null ? "" : state.heloName());
      attributes.put("sender", state.sender() == null ? "" : state.sender().toString());
      attributes.put("recipient", state.recipient() == null ? "" : state.recipient().toString());
      attributes.put("recipient_count", Integer.toString(state.where().equals("RCPT") ? 0 : state.recipientCount()));
      attributes.put("queue_id", "");
      attributes.put("instance", state.instance() == null ? "" : state.instance());
      attributes.put("size", Long.toString(state.messageSize()));
      attributes.put("etrn_domain", "");
      attributes.put("stress", "");
      attributes.put("sasl_method", state.sasl() == null ? "" : state.sasl().method());
      attributes.put("sasl_username", state.sasl() == null ? "" : state.sasl().username());
      attributes.put("sasl_sender", "");
      attributes.put("ccert_subject", "");
      attributes.put("ccert_issuer", "");
      attributes.put("ccert_fingerprint", "");
      attributes.put("encryption_protocol", state.tls() == null ? "" : state.tls().protocol());
      attributes.put("encryption_cipher", state.tls() == null ? "" : state.tls().cipher());
      attributes.put("encryption_keysize", state.tls() == null ? "0" : Integer.toString(state.tls().keysize()));
      attributes.put("policy_context", "");
      var action = server.query(attributes);
      return tableResult(server.name(), action != null ? action : settings.policyDefaultAction(), subject);
    }

    // --- recipient tables -------------------------------------------------------------------

    /** Postfix's {@code check_rcpt_maps}: does the address exist in its class's table? */
    Status unlisted(MailAddress address, Target target) {
      unlistedChecked = true;
      boolean isSender = target == Target.SENDER;
      var subject = subject(target);
      var resolved = lookup(address, () -> resolver.resolve(isSender ? MailAddress.NULL_SENDER : envelopeSender(), address));
      var found = lookup(address, () -> {
        var search = keys.address(resolved.recipient(), resolved.addressClass() == AddressClass.LOCAL);
        return tables.recipientCanonicalMaps().search(search).isPresent()
            || (isSender && tables.senderCanonicalMaps().search(search).isPresent())
            || tables.canonicalMaps().search(search).isPresent()
            || tables.virtualAliasMaps().search(search).isPresent();
      });
      if (found) return Status.DUNNO;
      var route = resolved.route();
      if (route.transport().equals("error")) {
        var d = dsnSplit(isSender ? "5.1.0" : "5.1.1", route.nexthop(), subject);
        // 551 for a relocated user (RFC 5321 "user not local; please try <forward-path>").
        int code = d[0].endsWith(".1.6") ? 551 : 550;
        return reject(code, d[0], subject.rejected(d[1]));
      }
      var local = KeyOrder.unquote(resolved.recipient().localPart());
      if (local.equalsIgnoreCase("postmaster")) return Status.DUNNO;
      var dsn = isSender ? "5.1.0" : "5.1.1";
      return switch (resolved.addressClass()) {
        case LOCAL -> !tables.localRecipientMaps().isEmpty() && !local.equalsIgnoreCase("MAILER-DAEMON")
            && !exists(tables.localRecipientMaps(), address, resolved.recipient(), true)
            ? reject(550, dsn, subject.rejected("User unknown in local recipient table")) : Status.DUNNO;
        case VIRTUAL_MAILBOX -> !tables.virtualMailboxMaps().isEmpty()
            && !exists(tables.virtualMailboxMaps(), address, resolved.recipient(), false)
            ? reject(550, dsn, subject.rejected("User unknown in virtual mailbox table")) : Status.DUNNO;
        case RELAY -> !tables.relayRecipientMaps().isEmpty()
            && !exists(tables.relayRecipientMaps(), address, resolved.recipient(), false)
            ? reject(550, dsn, subject.rejected("User unknown in relay recipient table")) : Status.DUNNO;
        default -> Status.DUNNO;
      };
    }

    private boolean exists(Maps table, MailAddress given, MailAddress resolved, boolean local) {
      return lookup(given, () -> table.search(keys.address(resolved, local)).isPresent());
    }

    // --- outcomes ---------------------------------------------------------------------------

    /** A refusal; a 5xx becomes the pending defer_if_reject if there is one (Postfix's order). */
    Status reject(int code, String dsn, String text) {
      var reply = Reply.of(code, (char) ('0' + code / 100) + dsn.substring(1), printable(text));
      if (deferIfReject != null && code >= 500) {
        reply = deferIfReject;
        deferIfReject = null;
      }
      return refuse(reply);
    }

    Status refuse(Reply reply) {
      this.reply = reply;
      return Status.REJECT;
    }

    private Status deferIfPermit(int code, String dsn, String text) {
      if (deferIfPermit == null) deferIfPermit = Reply.of(code, (char) ('0' + code / 100) + dsn.substring(1), printable(text));
      return Status.DUNNO;
    }

    private Status deferIfReject(int code, String dsn, String text) {
      if (deferIfReject == null) deferIfReject = Reply.of(code, (char) ('0' + code / 100) + dsn.substring(1), printable(text));
      return Status.DUNNO;
    }

    private Abort serverError(String why) {
      log.warn("warning: {}", why);
      return new Abort(Reply.of(451, "4.3.5", "Server configuration error"));
    }
  }

  // --- helpers ------------------------------------------------------------------------------

  /**
   * An optional enhanced status code at the start of {@code text} ({@code 5.7.0 go away}), or
   * the default; for addresses, Postfix's {@code smtpd_dsn_fix} turns a recipient code into its
   * sender twin and back. Returns {dsn, remaining text}.
   */
  private static String[] dsnSplit(String fallback, String text, Subject subject) {
    var m = DSN.matcher(text);
    var dsn = m.matches() ? m.group(1) : fallback;
    var rest = m.matches() ? m.group(2).strip() : text;
    if (dsn.startsWith(".1.", 1)) {
      var detail = dsn.substring(4);
      if (subject.kind().equals("Sender address")) {
        dsn = dsn.charAt(0) + switch (detail) {
          case "2", "8" -> ".1.8";
          case "3", "7" -> ".1.7";
          default -> ".1.0";
        };
      } else if (subject.kind().equals("Recipient address")) {
        dsn = dsn.charAt(0) + switch (detail) {
          case "1", "2", "3", "4", "5", "6" -> ".1." + detail;
          case "7" -> ".1.3";
          case "8" -> ".1.2";
          default -> ".1.0";
        };
      } else {
        dsn = dsn.charAt(0) + ".0.0";
      }
    }
    return new String[] {dsn, rest};
  }

  /** Postfix's {@code valid_hostname}: letters, digits, {@code -} and {@code _}, sane labels, not all digits. */
  static boolean validHostname(String name) {
    if (name.isEmpty() || name.length() > 255) return false;
    boolean nonNumeric = false;
    for (var label : name.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) return false;
      for (char c : label.toCharArray()) {
        if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_') return false;
        if (!Character.isDigit(c)) nonNumeric = true;
      }
    }
    return nonNumeric;
  }

  /** A name ending in one dot loses it ({@code example.com.}); {@code ..} stays and is invalid. */
  private static String trimDot(String name) {
    return name.endsWith(".") && !name.endsWith("..") ? name.substring(0, name.length() - 1) : name;
  }

  /** {@code 4.3.2.1} for 1.2.3.4; nibbles for IPv6 (RFC 5782). */
  private static String reversed(InetAddress address) {
    byte[] b = address.getAddress();
    var parts = new ArrayList<String>();
    for (int i = b.length - 1; i >= 0; i--) {
      if (b.length == 4) {
        parts.add(Integer.toString(b[i] & 0xff));
      } else {
        parts.add(Integer.toHexString(b[i] & 0xf));
        parts.add(Integer.toHexString((b[i] >> 4) & 0xf));
      }
    }
    return String.join(".", parts);
  }

  /** Control characters from tables, policy servers and clients are made harmless, as in Postfix. */
  private static String printable(String text) {
    var t = text.length() > 500 ? text.substring(0, 500) : text;
    return t.chars().mapToObj(c -> c < ' ' || c == 0x7f ? " " : String.valueOf((char) c)).collect(Collectors.joining());
  }
}

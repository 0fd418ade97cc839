package mta.delivery.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashSet;
import java.util.Optional;
import mta.config.ConfigError;
import mta.config.MtaConfig;
import mta.config.PolicySettings;
import mta.maps.Maps;

/**
 * The {@code local} transport of a node, set up from its settings: alias_maps (aliases(5)
 * files), local_recipient_maps (who exists; a value that is an absolute path is the home
 * directory), mail_spool_directory and home_mailbox, mailbox_size_limit. With
 * local_recipient_maps empty every user exists, as Postfix does with that setting empty;
 * postmaster always exists.
 */
public final class LocalTransport {
  private LocalTransport() {}

  /** The {@code virtual} transport: virtual_mailbox_maps under virtual_mailbox_base, written like local mailboxes. */
  public static VirtualDelivery virtual(MtaConfig config, PolicySettings policy, LocalDelivery writer) {
    return new VirtualDelivery(policy.addresses().virtualMailboxMaps(), config.config().getString("mta.virtual_mailbox_base"), writer);
  }

  public static LocalDelivery from(MtaConfig config, PolicySettings policy) {
    var c = config.config().getConfig("mta");
    var addresses = policy.addresses();
    Maps recipients = addresses.localRecipientMaps();
    LocalUsers users = user -> {
      if (recipients.isEmpty() || user.equalsIgnoreCase("postmaster")) return Optional.of(Path.of("/home", user));
      return recipients.find(user).map(v -> v.startsWith("/") ? Path.of(v) : Path.of("/home", user));
    };
    long sizeLimit = c.getBytes("mailbox_size_limit");
    var clock = Clock.systemDefaultZone();
    var localDomains = new HashSet<>(config.mydestination());
    return new LocalDelivery(aliases(c.getStringList("alias_maps")), users,
        new MailboxLocation(c.getString("mail_spool_directory"), c.getString("home_mailbox")),
        new MaildirDelivery(config.myhostname(), sizeLimit, clock),
        new MboxDelivery(sizeLimit, MboxDelivery.Locking.POSTFIX, clock),
        localDomains, addresses.recipientDelimiter());
  }

  /** alias_maps: each {@code type:/path} names an aliases(5) file; they are read in order as one. */
  private static Aliases aliases(java.util.List<String> specs) {
    var text = new StringBuilder();
    for (var spec : specs) {
      var path = Path.of(spec.substring(spec.indexOf(':') + 1));
      try {
        text.append(Files.readString(path, StandardCharsets.UTF_8)).append('\n');
      } catch (IOException e) {
        throw new ConfigError("mta.alias_maps: cannot read " + path + ": " + e.getMessage());
      }
    }
    return specs.isEmpty() ? Aliases.empty() : Aliases.parse(text.toString(), String.join(", ", specs));
  }
}

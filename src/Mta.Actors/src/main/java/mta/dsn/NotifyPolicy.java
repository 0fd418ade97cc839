package mta.dsn;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import mta.dsn.Notice.Kind;
import mta.mail.Dsn;

/**
 * Who is told about a message's recipients: Postfix's bounce_notify_service,
 * bounce_warn_service and bounce_trace_service decisions, with RFC 3461 NOTIFY. The rules
 * are listed in the package manual page.
 *
 * @param notifyClasses notify_classes
 * @param bounceNoticeRecipient bounce_notice_recipient: postmaster copies of bounces
 * @param twoBounceNoticeRecipient 2bounce_notice_recipient: bounces that cannot be returned
 * @param delayNoticeRecipient delay_notice_recipient: postmaster copies of delay warnings
 * @param doubleBounceSender the envelope sender of postmaster notices ({@code double-bounce@myhostname});
 *     a message from it gets no notice at all
 */
public record NotifyPolicy(
    Set<NotifyClass> notifyClasses,
    String bounceNoticeRecipient,
    String twoBounceNoticeRecipient,
    String delayNoticeRecipient,
    String doubleBounceSender) {

  public NotifyPolicy {
    notifyClasses = Set.copyOf(notifyClasses);
  }

  /**
   * The notices to send about these recipients of a message from {@code sender} (empty for
   * the null sender): at most one per kind to the sender, and postmaster notices as
   * notify_classes asks. Each recipient counts by its action: failed, delayed, or a success
   * (delivered, relayed, expanded).
   */
  public List<Notice> notices(String sender, List<RecipientStatus> recipients) {
    if (sender.equalsIgnoreCase(doubleBounceSender)) return List.of();
    var notices = new ArrayList<Notice>();
    for (var kind : Kind.values()) {
      var about = recipients.stream().filter(r -> kindOf(r.action()) == kind).toList();
      if (!about.isEmpty()) notices.addAll(notices(kind, sender, about));
    }
    return notices;
  }

  private List<Notice> notices(Kind kind, String sender, List<RecipientStatus> about) {
    var notices = new ArrayList<Notice>();
    // Mail from the null sender (a bounce, most often) is never answered.
    var wanted = sender.isEmpty() ? List.<RecipientStatus>of() : about.stream().filter(wants(kind)).toList();
    if (!wanted.isEmpty()) notices.add(new Notice(kind, "", sender, false, wanted));
    postmasterFor(kind, sender.isEmpty())
        .ifPresent(postmaster -> notices.add(new Notice(kind, doubleBounceSender, postmaster, true, about)));
    return notices;
  }

  /** Whether, and where, the postmaster hears of it: by notify_classes. */
  private Optional<String> postmasterFor(Kind kind, boolean nullSender) {
    return switch (kind) {
      case FAILURE -> nullSender
          ? when(has(NotifyClass.BOUNCE) || has(NotifyClass.TWO_BOUNCE), twoBounceNoticeRecipient)
          : when(has(NotifyClass.BOUNCE), bounceNoticeRecipient);
      case DELAY -> when(has(NotifyClass.DELAY), delayNoticeRecipient);
      case SUCCESS -> Optional.empty();
    };
  }

  private static Optional<String> when(boolean condition, String recipient) {
    return condition ? Optional.of(recipient) : Optional.empty();
  }

  private boolean has(NotifyClass c) {
    return notifyClasses.contains(c);
  }

  private static Predicate<RecipientStatus> wants(Kind kind) {
    var condition = switch (kind) {
      case FAILURE -> Dsn.Notify.FAILURE;
      case DELAY -> Dsn.Notify.DELAY;
      case SUCCESS -> Dsn.Notify.SUCCESS;
    };
    return r -> r.notifyOn().contains(condition);
  }

  private static Kind kindOf(Action action) {
    return switch (action) {
      case FAILED -> Kind.FAILURE;
      case DELAYED -> Kind.DELAY;
      case DELIVERED, RELAYED, EXPANDED -> Kind.SUCCESS;
    };
  }
}

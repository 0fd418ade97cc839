package mta.dsn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import mta.dsn.Notice.Kind;
import mta.mail.Dsn.Notify;
import org.junit.jupiter.api.Test;

class NotifyPolicyTest {
  private static final String DOUBLE_BOUNCE = "double-bounce@mx.test";

  private static NotifyPolicy policy(NotifyClass... classes) {
    return new NotifyPolicy(Set.of(classes), "postmaster", "postmaster", "postmaster", DOUBLE_BOUNCE);
  }

  private static RecipientStatus status(String rcpt, Action action, Set<Notify> notify) {
    return new RecipientStatus(rcpt, "", notify, action, switch (action) {
      case FAILED -> "5.1.1";
      case DELAYED -> "4.4.1";
      default -> "2.0.0";
    }, "reason", "", "");
  }

  private static final RecipientStatus FAILED = status("a@x.test", Action.FAILED, null);
  private static final RecipientStatus FAILED_NEVER = status("b@x.test", Action.FAILED, Set.of());
  private static final RecipientStatus DELAYED = status("c@x.test", Action.DELAYED, null);
  private static final RecipientStatus DELIVERED = status("d@x.test", Action.DELIVERED, null);
  private static final RecipientStatus DELIVERED_SUCCESS = status("e@x.test", Action.DELIVERED, Set.of(Notify.SUCCESS, Notify.FAILURE));

  @Test
  void failuresGoBackToTheSenderFromTheNullSender() {
    assertEquals(List.of(new Notice(Kind.FAILURE, "", "alice@example.org", false, List.of(FAILED))),
        policy().notices("alice@example.org", List.of(FAILED, DELIVERED)));
  }

  @Test
  void notifyNeverSuppressesTheNoticeButNotThePostmasterCopy() {
    assertEquals(List.of(), policy().notices("alice@example.org", List.of(FAILED_NEVER)));
    assertEquals(List.of(
            new Notice(Kind.FAILURE, "", "alice@example.org", false, List.of(FAILED)),
            new Notice(Kind.FAILURE, DOUBLE_BOUNCE, "postmaster", true, List.of(FAILED, FAILED_NEVER))),
        policy(NotifyClass.BOUNCE).notices("alice@example.org", List.of(FAILED, FAILED_NEVER)));
  }

  @Test
  void notifySuccessYieldsADeliveredReport() {
    assertEquals(List.of(new Notice(Kind.SUCCESS, "", "alice@example.org", false, List.of(DELIVERED_SUCCESS))),
        policy(NotifyClass.BOUNCE, NotifyClass.DELAY).notices("alice@example.org", List.of(DELIVERED, DELIVERED_SUCCESS)));
  }

  @Test
  void relayedAndExpandedCountAsSuccess() {
    var relayed = status("f@x.test", Action.RELAYED, Set.of(Notify.SUCCESS));
    var expanded = status("g@x.test", Action.EXPANDED, Set.of(Notify.SUCCESS));
    assertEquals(List.of(new Notice(Kind.SUCCESS, "", "alice@example.org", false, List.of(relayed, expanded))),
        policy().notices("alice@example.org", List.of(relayed, expanded)));
  }

  @Test
  void delaysAreReportedToTheSenderAndWithDelayToThePostmaster() {
    assertEquals(List.of(new Notice(Kind.DELAY, "", "alice@example.org", false, List.of(DELAYED))),
        policy().notices("alice@example.org", List.of(DELAYED)));
    assertEquals(List.of(
            new Notice(Kind.DELAY, "", "alice@example.org", false, List.of(DELAYED)),
            new Notice(Kind.DELAY, DOUBLE_BOUNCE, "postmaster", true, List.of(DELAYED))),
        policy(NotifyClass.DELAY).notices("alice@example.org", List.of(DELAYED)));
  }

  @Test
  void oneNoticePerKindInFailureDelaySuccessOrder() {
    var notices = policy().notices("alice@example.org", List.of(DELIVERED_SUCCESS, DELAYED, FAILED));
    assertEquals(List.of(Kind.FAILURE, Kind.DELAY, Kind.SUCCESS), notices.stream().map(Notice::kind).toList());
  }

  @Test
  void aNullSenderMessageNeverGetsABounceButMayGoToThePostmaster() {
    assertEquals(List.of(), policy().notices("", List.of(FAILED, DELAYED, DELIVERED_SUCCESS)));
    var toPostmaster = List.of(new Notice(Kind.FAILURE, DOUBLE_BOUNCE, "postmaster", true, List.of(FAILED)));
    assertEquals(toPostmaster, policy(NotifyClass.TWO_BOUNCE).notices("", List.of(FAILED)));
    assertEquals(toPostmaster, policy(NotifyClass.BOUNCE).notices("", List.of(FAILED)));
    assertEquals(List.of(new Notice(Kind.DELAY, DOUBLE_BOUNCE, "postmaster", true, List.of(DELAYED))),
        policy(NotifyClass.DELAY, NotifyClass.TWO_BOUNCE).notices("", List.of(DELAYED)));
  }

  @Test
  void theDoubleBounceRecipientsAreTheirOwn() {
    var policy = new NotifyPolicy(Set.of(NotifyClass.BOUNCE, NotifyClass.TWO_BOUNCE), "pm-bounce@mx.test", "pm-2bounce@mx.test",
        "pm-delay@mx.test", DOUBLE_BOUNCE);
    assertEquals("pm-2bounce@mx.test", policy.notices("", List.of(FAILED)).get(0).to());
    assertEquals("pm-bounce@mx.test", policy.notices("alice@example.org", List.of(FAILED)).get(1).to());
  }

  @Test
  void aFailedPostmasterNoticeIsNeverAnswered() {
    assertEquals(List.of(), policy(NotifyClass.values()).notices("Double-Bounce@mx.test", List.of(FAILED, DELAYED)));
  }

  // --- the DSN parameters ---------------------------------------------------------------

  @Test
  void noNotifyParameterMeansFailureAndDelay() {
    assertEquals(RecipientStatus.DEFAULT_NOTIFY, FAILED.notifyOn());
    assertEquals(Set.of(Notify.FAILURE, Notify.DELAY), RecipientStatus.DEFAULT_NOTIFY);
    assertEquals(Set.of(), FAILED_NEVER.notifyOn());
  }

  @Test
  void notifyClassesParseWithPostfixNames() {
    assertEquals(Set.of(NotifyClass.TWO_BOUNCE, NotifyClass.RESOURCE), NotifyClass.parse(List.of("2bounce", " Resource")));
    var e = assertThrows(IllegalArgumentException.class, () -> NotifyClass.parse(List.of("bounce", "bouncy")));
    assertEquals("unknown notify class 'bouncy'", e.getMessage());
  }
}

package mta.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import mta.mail.Reply;
import mta.queue.RecipientResult;
import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void countingPointsShowInTheTextFormat() {
    Metrics.smtpdConnection();
    Metrics.accepted();
    Metrics.rejected(Reply.of(554, "5.7.1", "Relay access denied"));
    Metrics.rejected(Reply.plain(421, "closing"));
    Metrics.delivery(RecipientResult.Outcome.DEFERRED, "smtp:[192.0.2.1]:25");
    Metrics.journalWrite(3_000_000);
    Metrics.queueSizes(Map.of("active", 1L, "deferred", 2L, "hold", 0L));
    var text = new String(Metrics.scrape(), StandardCharsets.UTF_8);
    assertTrue(text.contains("mta_smtpd_connections_total "), text);
    assertTrue(text.contains("mta_messages_accepted_total "), text);
    assertTrue(text.contains("mta_messages_rejected_total{reason=\"554 5.7.1\"}"), text);
    assertTrue(text.contains("mta_messages_rejected_total{reason=\"421\"}"), text);
    assertTrue(text.contains("mta_deliveries_total{destination=\"smtp:[192.0.2.1]:25\",status=\"deferred\"}"), text);
    assertTrue(text.contains("mta_journal_write_seconds_bucket{le=\"0.005\"}"), text);
    assertTrue(text.contains("mta_queue_messages{queue=\"deferred\"} 2.0"), text);
    assertTrue(text.startsWith("# HELP") || text.contains("# TYPE"), text);
  }

  @Test
  void aLabelLimitNamesTheFirstSeenAndCallsTheRestOther() {
    var limit = new Metrics.LabelLimit(2);
    assertEquals("a", limit.of("a"));
    assertEquals("b", limit.of("b"));
    assertEquals(Metrics.OTHER, limit.of("c"));
    assertEquals("a", limit.of("a"), "a name once given stays");
  }
}

package mta.mail;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyTest {

  @Test
  void multiLineWireForm() {
    assertEquals("250-mx.example.net\r\n250 DSN\r\n", Reply.plain(250, "mx.example.net", "DSN").wire());
    assertEquals("550 5.1.1 No such user\r\n", Reply.of(550, "5.1.1", "No such user").wire());
  }

  /** Found by SmtpdFuzzTest#session: VRFY echoed 8-bit text; an option could carry a CR. */
  @Test
  void textOutsidePrintableAsciiIsMasked() {
    assertEquals("252 2.0.0 ]???\r\n", Reply.of(252, "2.0.0", "]\u0492\u0492\u0492").wire());
    assertEquals("555 5.5.4 Unsupported option: X=a?b\r\n", Reply.of(555, "5.5.4", "Unsupported option: X=a\rb").wire());
    assertEquals("250 ?\r\n", Reply.plain(250, "\uD83D\uDE00").wire());
  }

  @Test
  void aLineIsCutAt512OctetsWithItsCrlf() {
    var wire = new Reply(252, "2.0.0", List.of("x".repeat(600), "short")).wire();
    var lines = wire.split("\r\n");
    assertEquals(512 - 2, lines[0].length());
    assertEquals("252-2.0.0 " + "x".repeat(500), lines[0]);
    assertEquals("252 2.0.0 short", lines[1]);
  }
}

package mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import mta.mail.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReplyReaderTest {

  private final ReplyReader reader = new ReplyReader();

  private Reply read(String... lines) {
    for (int i = 0; i < lines.length - 1; i++) assertTrue(reader.accept(lines[i]).isEmpty(), lines[i]);
    return reader.accept(lines[lines.length - 1]).orElseThrow();
  }

  @Test
  void splitsOffTheEnhancedStatusCode() {
    assertEquals(Reply.of(250, "2.1.0", "Ok"), read("250 2.1.0 Ok"));
  }

  @Test
  void assemblesMultiLineReplies() {
    assertEquals(new Reply(250, "", List.of("mx.example.com", "PIPELINING", "SIZE 1000")),
        read("250-mx.example.com", "250-PIPELINING", "250 SIZE 1000"));
  }

  @Test
  void dropsTheEnhancedCodeFromEveryLineOfAMultiLineReply() {
    assertEquals(new Reply(550, "5.1.1", List.of("The account", "does not exist")),
        read("550-5.1.1 The account", "550 5.1.1 does not exist"));
  }

  @Test
  void anEnhancedCodeOfTheWrongClassStaysInTheText() {
    assertEquals(Reply.plain(250, "5.1.0 Ok"), read("250 5.1.0 Ok"));
    assertEquals(Reply.plain(550, "2.0.0 odd"), read("550 2.0.0 odd"));
  }

  @Test
  void somethingThatOnlyLooksLikeAnEnhancedCodeStaysInTheText() {
    assertEquals(Reply.plain(250, "2.0.0.1 Ok"), read("250 2.0.0.1 Ok"));
    assertEquals(Reply.plain(250, "2.1000.0 Ok"), read("250 2.1000.0 Ok"));
  }

  @Test
  void acceptsABareCode() {
    assertEquals(Reply.plain(250, ""), read("250"));
    assertEquals(Reply.of(250, "2.0.0", ""), read("250 2.0.0"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "25", "hello", "25O Ok", "250:Ok", "2500 Ok"})
  void rejectsLinesWithoutACode(String line) {
    assertThrows(ReplyReader.MalformedReplyException.class, () -> reader.accept(line));
  }

  @Test
  void rejectsACodeChangeWithinAReply() {
    reader.accept("250-first");
    assertThrows(ReplyReader.MalformedReplyException.class, () -> reader.accept("251 second"));
  }
}

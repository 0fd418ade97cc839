package mta.maps;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DomainListTest {

  @Test
  void exactNames() {
    var list = DomainList.of(List.of("Example.COM.", "localhost"), false);
    assertTrue(list.matches("example.com"));
    assertTrue(list.matches("EXAMPLE.com."));
    assertFalse(list.matches("mx.example.com"));
    assertFalse(list.matches("xexample.com"));
  }

  @Test
  void subdomainsWhereTheListCoversThem() {
    var list = DomainList.of(List.of("example.com", ".dot.example"), true);
    assertTrue(list.matches("example.com"));
    assertTrue(list.matches("a.b.example.com"));
    assertFalse(list.matches("xexample.com"));
    assertFalse(list.matches("dot.example"));
    assertTrue(list.matches("a.dot.example"));
  }

  @Test
  void tablesAndExclusions() {
    var list = DomainList.of(List.of("!bad.example.com", "inline:{ example.com=yes }"), true);
    assertTrue(list.matches("example.com"));
    assertTrue(list.matches("good.example.com"));
    assertFalse(list.matches("bad.example.com"));
    assertFalse(DomainList.of(List.of("inline:{ example.com=yes }"), false).matches("good.example.com"));
  }

  @Test
  void commaSeparatedItems() {
    var list = DomainList.of(List.of("a.example, b.example"), false);
    assertTrue(list.matches("b.example"));
  }
}

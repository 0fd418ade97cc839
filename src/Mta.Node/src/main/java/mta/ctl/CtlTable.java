package mta.ctl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A plain text table: a heading row and rows, each column as wide as its widest cell, numbers
 * right-aligned and text left-aligned, two spaces between columns.
 */
final class CtlTable {
  private final List<List<String>> rows = new ArrayList<>();

  CtlTable(String... heading) {
    rows.add(List.of(heading));
  }

  CtlTable add(Object... cells) {
    rows.add(Arrays.stream(cells).map(String::valueOf).toList());
    return this;
  }

  @Override
  public String toString() {
    int columns = rows.get(0).size();
    var width = new int[columns];
    var numeric = new boolean[columns];
    for (int c = 0; c < columns; c++) {
      numeric[c] = rows.size() > 1;
      for (int r = 0; r < rows.size(); r++) {
        var cell = rows.get(r).get(c);
        width[c] = Math.max(width[c], cell.length());
        if (r > 0 && !cell.matches("\\d+")) numeric[c] = false;
      }
    }
    var out = new StringBuilder();
    for (var row : rows) {
      var line = new StringBuilder();
      for (int c = 0; c < columns; c++) {
        if (c > 0) line.append("  ");
        var pad = " ".repeat(width[c] - row.get(c).length());
        line.append(numeric[c] ? pad + row.get(c) : row.get(c) + pad);
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }
}

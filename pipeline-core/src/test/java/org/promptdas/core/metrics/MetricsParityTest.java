package org.promptdas.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Parity with {@code ../shared/reference/metrics_ref.py}: the generated {@link ParityCases} were
 * scored by the reference (scripts/metrics-parity-fixtures.sh); our scorer must agree to 1e-9.
 */
class MetricsParityTest {
  private static final Pattern FIELD = Pattern.compile("\"(\\w+)\": (NaN|[-0-9.eE]+|\"[^\"]*\")");

  @Test
  void everyGeneratedCaseMatchesTheReference() throws IOException {
    Map<String, Map<String, Double>> ref = reference();
    List<ParityCases.Case> cases = ParityCases.all();
    assertEquals(cases.size(), ref.size(), "fixture and cases out of step: rerun the fixture script");
    Scorer scorer = new Scorer(Protocol.BINARY, 15);
    MetricsAccumulator acc = new MetricsAccumulator();
    for (ParityCases.Case c : cases) {
      Map<String, Double> expected = ref.get(c.name() + ".png");
      SliceScores got = scorer.score(c.pred(), c.gt());
      acc.add(got);
      for (String k : List.of("dice", "aji", "pq", "dq", "sq")) {
        double e = expected.get(k);
        double g = got.get(k);
        if (Double.isNaN(e)) {
          assertTrue(Double.isNaN(g), c.name() + " " + k + ": expected undefined, got " + g);
        } else {
          assertEquals(e, g, 1e-9, c.name() + " " + k);
        }
      }
    }
    // The means are numpy.nanmean over the slices.
    for (String k : List.of("dice", "aji", "pq", "dq", "sq")) {
      double sum = 0;
      int n = 0;
      for (Map<String, Double> row : ref.values()) {
        if (!Double.isNaN(row.get(k))) {
          sum += row.get(k);
          n++;
        }
      }
      assertEquals(sum / n, acc.mean(k), 1e-9, "mean " + k);
    }
    assertEquals(1, acc.undefinedSlices());
  }

  private static Map<String, Map<String, Double>> reference() throws IOException {
    Map<String, Map<String, Double>> out = new HashMap<>();
    try (InputStream in = MetricsParityTest.class.getResourceAsStream("/metrics-parity.jsonl")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        Map<String, Double> row = new HashMap<>();
        String name = null;
        Matcher m = FIELD.matcher(line);
        while (m.find()) {
          String v = m.group(2);
          if (v.startsWith("\"")) {
            name = v.substring(1, v.length() - 1);
          } else {
            row.put(m.group(1), "NaN".equals(v) ? Double.NaN : Double.parseDouble(v));
          }
        }
        out.put(name, row);
      }
    }
    return out;
  }
}

package org.promptdas.jobs.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.promptdas.jobs.training.RoundRecord;

/**
 * A self-contained HTML report: the metric table, the training loss curves (inline SVG) and the
 * error overlays of each cell (true positive green, false negative red, false positive blue). It
 * has no scripts and no external resources: images are referenced relative to the report, so the
 * folder opens in any browser from disk, without a server or network. Pure: builds a string.
 */
public final class HtmlReport {
  private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
      "#8c564b", "#e377c2", "#7f7f7f"};

  private HtmlReport() {}

  /**
   * Builds the report.
   *
   * @param histories training history per model name (models without one are left out)
   * @param overlaySlices slice stems whose overlays are shown, per dataset
   */
  public static String render(String title, List<String> notes, List<CellResult> cells,
      Map<String, List<RoundRecord>> histories, Map<String, List<String>> overlaySlices) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
        .append(esc(title)).append("</title>\n<style>\n")
        .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}\n")
        .append("table{border-collapse:collapse;margin:8px 0 24px}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}\n")
        .append("th:nth-child(-n+3),td:nth-child(-n+3){text-align:left}tr.best td{font-weight:bold}\n")
        .append(".grid{display:flex;flex-wrap:wrap;gap:12px}.grid figure{margin:0;width:260px}\n")
        .append(".grid img{width:260px;image-rendering:pixelated;border:1px solid #ccc}figcaption{font-size:12px}\n")
        .append(".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}\n")
        .append("</style></head><body>\n<h1>").append(esc(title)).append("</h1>\n");
    for (String n : notes) {
      h.append("<p>").append(esc(n)).append("</p>\n");
    }
    table(h, cells);
    curves(h, histories);
    overlays(h, cells, overlaySlices);
    h.append("</body></html>\n");
    return h.toString();
  }

  private static void table(StringBuilder h, List<CellResult> cells) {
    h.append("<h2>Scores</h2>\n<p>Means over slices, in percent (the paper's protocol: binary masks, "
        + "instances are 8-connected components, predicted components of 15 px or fewer removed).</p>\n");
    Map<String, List<CellResult>> byDataset = new LinkedHashMap<>();
    cells.forEach(c -> byDataset.computeIfAbsent(c.dataset(), k -> new ArrayList<>()).add(c));
    h.append("<table><tr><th>dataset</th><th>model</th><th>testing prompts</th><th>Dice</th><th>AJI</th>"
        + "<th>PQ</th><th>DQ</th><th>SQ</th><th>slices</th></tr>\n");
    for (List<CellResult> group : byDataset.values()) {
      double best = group.stream().mapToDouble(CellResult::dice).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
      for (CellResult c : group) {
        h.append(c.dice() == best ? "<tr class=\"best\">" : "<tr>")
            .append("<td>").append(esc(c.dataset())).append("</td><td>").append(esc(c.model()))
            .append("</td><td>").append(esc(c.promptLabel())).append("</td>");
        for (double v : new double[] {c.dice(), c.aji(), c.pq(), c.dq(), c.sq()}) {
          h.append("<td>").append(Double.isNaN(v) ? "&ndash;" : String.format(Locale.ROOT, "%.1f", 100 * v)).append("</td>");
        }
        h.append("<td>").append(c.slices()).append("</td></tr>\n");
      }
    }
    h.append("</table>\n");
  }

  private static void curves(StringBuilder h, Map<String, List<RoundRecord>> histories) {
    Map<String, List<RoundRecord>> shown = new LinkedHashMap<>();
    histories.forEach((k, v) -> {
      if (!v.isEmpty()) {
        shown.put(k, v);
      }
    });
    if (shown.isEmpty()) {
      return;
    }
    h.append("<h2>Training</h2>\n<p>Mean loss of each round over all workers' local steps "
        + "(total: segmentation + detection + contrastive).</p>\n<div class=\"grid\">\n");
    for (String part : List.of("total", "segmentation", "detection", "contrastive")) {
      h.append(svg(part, shown));
    }
    h.append("</div>\n");
  }

  private static String svg(String part, Map<String, List<RoundRecord>> series) {
    int w = 420;
    int ht = 260;
    int left = 52;
    int bottom = 34;
    long maxStep = 1;
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (List<RoundRecord> s : series.values()) {
      for (RoundRecord r : s) {
        maxStep = Math.max(maxStep, r.step());
        lo = Math.min(lo, value(r, part));
        hi = Math.max(hi, value(r, part));
      }
    }
    if (!(hi > lo)) {
      hi = lo + 1e-6;
    }
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "<figure style=\"width:%dpx\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            + "font-size=\"11\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", w, w, ht, w, ht));
    int pw = w - left - 10;
    int ph = ht - bottom - 10;
    s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
        + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", left, left, 10 + ph, left,
        10 + ph, left + pw, 10 + ph));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" text-anchor=\"end\">%.3g</text>"
        + "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>", left - 4, hi, left - 4, 10 + ph, lo));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">0</text><text x=\"%d\" y=\"%d\" "
        + "text-anchor=\"end\">%d</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">step</text>", left,
        ht - 18, left + pw, ht - 18, maxStep, left + pw / 2, ht - 4));
    int i = 0;
    for (Map.Entry<String, List<RoundRecord>> e : series.entrySet()) {
      String colour = COLOURS[i % COLOURS.length];
      StringBuilder pts = new StringBuilder();
      for (RoundRecord r : e.getValue()) {
        double x = left + pw * (double) r.step() / maxStep;
        double y = 10 + ph * (1 - (value(r, part) - lo) / (hi - lo));
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      }
      s.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(colour)
          .append("\" points=\"").append(pts.toString().trim()).append("\"/>");
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>", left + pw - 150,
          24 + 13 * i, colour, esc(e.getKey())));
      i++;
    }
    s.append("</svg><figcaption>").append(part).append(" loss</figcaption></figure>\n");
    return s.toString();
  }

  private static double value(RoundRecord r, String part) {
    return switch (part) {
      case "segmentation" -> r.segmentation();
      case "detection" -> r.detection();
      case "contrastive" -> r.contrastive();
      case "total" -> r.loss();
      default -> throw new IllegalArgumentException("no loss part " + part);
    };
  }

  private static void overlays(StringBuilder h, List<CellResult> cells, Map<String, List<String>> slices) {
    h.append("<h2>Errors</h2>\n<p class=\"legend\">Overlays on the EM slice:<span style=\"background:#0c0\">"
        + "</span>true positive<span style=\"background:#e00\"></span>false negative"
        + "<span style=\"background:#00e\"></span>false positive</p>\n");
    for (Map.Entry<String, List<String>> e : slices.entrySet()) {
      for (String stem : e.getValue()) {
        h.append("<h3>").append(esc(e.getKey())).append(" / ").append(esc(stem)).append("</h3>\n<div class=\"grid\">\n");
        for (CellResult c : cells) {
          if (c.dataset().equals(e.getKey())) {
            h.append("<figure><img loading=\"lazy\" src=\"").append(esc(c.evalDir() + "/overlays/" + stem + ".png"))
                .append("\" alt=\"overlay\"><figcaption>").append(esc(c.model()))
                .append(String.format(Locale.ROOT, ", %s prompts: Dice %.1f", esc(c.promptLabel()), 100 * c.dice()))
                .append("</figcaption></figure>\n");
          }
        }
        h.append("</div>\n");
      }
    }
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}

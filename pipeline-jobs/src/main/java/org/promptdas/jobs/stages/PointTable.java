package org.promptdas.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.labels.Point;
import org.promptdas.jobs.fs.HadoopFiles;

/**
 * A table of point annotations (sparse points or testing prompts): columns {@code volume}
 * (string), {@code slice} (int, 0-based index in the volume), {@code x}, {@code y} (int pixels),
 * read by name from CSV with a header or Parquet. Small by nature (one point per annotated instance), so it is
 * collected to the driver and shipped to tasks whole.
 */
public final class PointTable implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final StructType SCHEMA = new StructType()
      .add("volume", DataTypes.StringType, false)
      .add("slice", DataTypes.IntegerType, false)
      .add("x", DataTypes.IntegerType, false)
      .add("y", DataTypes.IntegerType, false);

  private final Map<String, List<Point>> bySlice;
  private final int count;

  private PointTable(Map<String, List<Point>> bySlice, int count) {
    this.bySlice = bySlice;
    this.count = count;
  }

  /**
   * Reads a point table, CSV (with a header; read here, not by Spark, which skips files named
   * {@code _*} such as the points stage's own {@code _points.csv}) or Parquet, by column name: the
   * columns may come in any order and extra ones (such as {@code slice_name}) are ignored.
   *
   * @throws BadInput naming the file and the missing columns or the bad row
   */
  public static PointTable load(SparkSession spark, HadoopFiles files, String path) {
    List<Map<String, String>> rows = path.toLowerCase(Locale.ROOT).endsWith(".csv")
        ? csvRows(path, new String(files.read(files.qualify(path)), StandardCharsets.UTF_8))
        : parquetRows(spark, path);
    Map<String, List<Point>> map = new HashMap<>();
    for (Map<String, String> r : rows) {
      try {
        map.computeIfAbsent(key(r.get("volume"), Integer.parseInt(r.get("slice").trim())), k -> new ArrayList<>())
            .add(new Point(Integer.parseInt(r.get("x").trim()), Integer.parseInt(r.get("y").trim())));
      } catch (NumberFormatException | NullPointerException e) {
        throw new BadInput(path + ": point row with an empty or non-integer field: " + r);
      }
    }
    return new PointTable(map, rows.size());
  }

  /** The rows of a CSV with a header, each as column name to value; quoted fields may hold commas. */
  static List<Map<String, String>> csvRows(String path, String text) {
    List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
    if (lines.isEmpty()) {
      throw new BadInput(path + ": point table is empty (no header)");
    }
    List<String> header = fields(lines.get(0)).stream().map(String::trim).toList();
    requireColumns(path, header);
    List<Map<String, String>> rows = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      List<String> f = fields(lines.get(i));
      if (f.size() != header.size()) {
        throw new BadInput(path + ": line " + (i + 1) + " has " + f.size() + " fields, the header " + header.size());
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < header.size(); c++) {
        row.put(header.get(c), f.get(c));
      }
      rows.add(row);
    }
    return rows;
  }

  /** The fields of one CSV line (RFC 4180 quotes). */
  static List<String> fields(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (quoted && ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
        cur.append('"');
        i++;
      } else if (ch == '"') {
        quoted = !quoted;
      } else if (ch == ',' && !quoted) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(ch);
      }
    }
    out.add(cur.toString());
    return out;
  }

  /** A field for a CSV line: quoted when it holds a comma, a quote or a line break. */
  static String csvField(String v) {
    return v.matches(".*[,\"\n\r].*") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
  }

  private static List<Map<String, String>> parquetRows(SparkSession spark, String path) {
    List<Row> rows;
    try {
      Dataset<Row> df = spark.read().parquet(path);
      requireColumns(path, List.of(df.columns()));
      rows = df.selectExpr("cast(volume as string) volume", "cast(slice as string) slice",
          "cast(x as string) x", "cast(y as string) y").collectAsList();
    } catch (BadInput e) {
      throw e;
    } catch (RuntimeException e) {
      throw new BadInput(path + ": point table cannot be read (" + firstLine(e) + ")", e);
    }
    List<Map<String, String>> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, String> m = new LinkedHashMap<>();
      for (int c = 0; c < 4; c++) {
        m.put(SCHEMA.fieldNames()[c], r.isNullAt(c) ? null : r.getString(c));
      }
      out.add(m);
    }
    return out;
  }

  private static void requireColumns(String path, List<String> columns) {
    List<String> missing = new ArrayList<>();
    for (String c : SCHEMA.fieldNames()) {
      if (!columns.contains(c)) {
        missing.add(c);
      }
    }
    if (!missing.isEmpty()) {
      throw new BadInput(path + ": point table lacks column" + (missing.size() > 1 ? "s " : " ")
          + String.join(", ", missing) + " (needs volume, slice, x, y by name; has "
          + String.join(", ", columns) + ")");
    }
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("\n") ? m.substring(0, m.indexOf('\n')) : m;
  }

  static String key(String volume, int slice) {
    return volume + "\u0000" + slice;
  }

  /** The points of one slice (empty if none). */
  public List<Point> points(String volume, int slice) {
    return bySlice.getOrDefault(key(volume, slice), List.of());
  }

  public int count() {
    return count;
  }

  /** The SHA-256 of the table's content (its points by volume and slice, in a fixed order). */
  public String sha256() {
    StringBuilder b = new StringBuilder();
    bySlice.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      b.append(e.getKey().replace('\u0000', '/')).append(':');
      e.getValue().stream().sorted(java.util.Comparator.comparingInt(Point::y).thenComparingInt(Point::x))
          .forEach(p -> b.append(p.x()).append(',').append(p.y()).append(';'));
      b.append('\n');
    });
    return InferStage.sha256(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Checks that every point falls on a known slice and inside it. */
  public void validate(String path, String volume, List<int[]> sliceSizes) {
    for (Map.Entry<String, List<Point>> e : bySlice.entrySet()) {
      String[] k = e.getKey().split("\u0000");
      if (!k[0].equals(volume)) {
        throw new BadInput(path + ": points for volume '" + k[0] + "', but the images are volume '"
            + volume + "'");
      }
      int slice = Integer.parseInt(k[1]);
      if (slice < 0 || slice >= sliceSizes.size()) {
        throw new BadInput(path + ": points on slice " + slice + ", but the volume has "
            + sliceSizes.size() + " slices (0-based)");
      }
      int[] wh = sliceSizes.get(slice);
      for (Point p : e.getValue()) {
        if (p.x() < 0 || p.y() < 0 || p.x() >= wh[0] || p.y() >= wh[1]) {
          throw new BadInput(path + ": point (" + p.x() + ", " + p.y() + ") lies outside slice "
              + slice + " (" + wh[0] + "x" + wh[1] + ")");
        }
      }
    }
  }
}

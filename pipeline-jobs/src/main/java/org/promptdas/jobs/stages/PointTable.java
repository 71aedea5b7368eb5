package org.promptdas.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.labels.Point;

/**
 * A table of point annotations (sparse points or testing prompts): columns {@code volume}
 * (string), {@code slice} (int, 0-based index in the volume), {@code x}, {@code y} (int pixels),
 * from CSV with a header or Parquet. Small by nature (one point per annotated instance), so it is
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

  public static PointTable load(SparkSession spark, String path) {
    Dataset<Row> df;
    if (path.toLowerCase(java.util.Locale.ROOT).endsWith(".csv")) {
      df = spark.read().option("header", "true").option("mode", "FAILFAST").schema(SCHEMA).csv(path);
    } else {
      df = spark.read().parquet(path);
      for (String c : SCHEMA.fieldNames()) {
        if (!List.of(df.columns()).contains(c)) {
          throw new BadInput(path + ": point table lacks column '" + c + "' (needs volume, slice, x, y)");
        }
      }
      df = df.selectExpr("cast(volume as string) volume", "cast(slice as int) slice",
          "cast(x as int) x", "cast(y as int) y");
    }
    List<Row> rows;
    try {
      rows = df.collectAsList();
    } catch (RuntimeException e) {
      throw new BadInput(path + ": point table cannot be read (" + firstLine(e) + ")", e);
    }
    Map<String, List<Point>> map = new HashMap<>();
    for (Row r : rows) {
      if (r.anyNull()) {
        throw new BadInput(path + ": point row with an empty field: " + r);
      }
      map.computeIfAbsent(key(r.getString(0), r.getInt(1)), k -> new ArrayList<>())
          .add(new Point(r.getInt(2), r.getInt(3)));
    }
    return new PointTable(map, rows.size());
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

package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.labels.CentrePoints;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Point;
import org.promptdas.core.synth.Domain;

class PointsStageTest {
  @TempDir Path tmp;

  private Set<String> points(String out, double fraction, long seed) {
    TestData.Run r = TestData.run("points", "--labels", tmp.resolve("vol/lab").toString(), "--volume",
        "vol", "--fraction", Double.toString(fraction), "--set", "points.seed=" + seed, "--out", out);
    assertEquals(0, r.code(), r.err());
    Set<String> s = new HashSet<>();
    for (Row row : SparkSession.builder().getOrCreate().read().parquet(out).collectAsList()) {
      s.add(row.getAs("slice") + ":" + row.getAs("x") + "," + row.getAs("y"));
    }
    return s;
  }

  @Test
  void sampledPointsAreReproducibleCentresOnTheRequestedFraction() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.TARGET, 3, 256, 256);
    int total = 0;
    Set<String> centres = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      IntImage lab = ImageReaders.readSingle(tmp.resolve(String.format("vol/lab/s%02d.png", i)));
      List<Point> c = CentrePoints.of(Instances.ofIds(lab));
      total += c.size();
      for (Point p : c) {
        centres.add(i + ":" + p.x() + "," + p.y());
      }
    }
    Set<String> a = points(tmp.resolve("p15").toString(), 0.15, 1);
    assertEquals(Math.round(0.15 * total), a.size());
    assertTrue(centres.containsAll(a), "every point is an instance centre");
    assertEquals(a, points(tmp.resolve("p15b").toString(), 0.15, 1), "same seed, same points");
    Set<String> half = points(tmp.resolve("p50").toString(), 0.5, 1);
    assertTrue(half.containsAll(a), "a larger fraction extends a smaller one");
    assertNotEquals(a, points(tmp.resolve("p15c").toString(), 0.15, 2));
    assertTrue(Files.readString(tmp.resolve("p15/_points.csv")).startsWith("volume,slice,slice_name,x,y\n"));
    // the table feeds tile directly
    TestData.Run tile = TestData.run("tile", "--images", tmp.resolve("vol/img").toString(), "--volume",
        "vol", "--points", tmp.resolve("p50").toString(), "--crop", "128", "--out", tmp.resolve("crops").toString());
    assertEquals(0, tile.code(), tile.err());
  }
}

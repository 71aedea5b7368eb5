package org.promptdas.core.labels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.promptdas.core.image.IntImage;

class LabelsTest {

  private static IntImage noise(int w, int h, double p, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    IntImage m = new IntImage(w, h);
    for (int i = 0; i < m.size(); i++) {
      m.data()[i] = r.nextDouble() < p ? 1 : 0;
    }
    return m;
  }

  /** Breadth-first flood fill: the obviously correct (slow) labelling to compare against. */
  private static int[] floodFill(IntImage m, boolean eight) {
    int w = m.width();
    int h = m.height();
    int[] lab = new int[m.size()];
    int next = 0;
    for (int s = 0; s < lab.length; s++) {
      if (m.data()[s] == 0 || lab[s] != 0) {
        continue;
      }
      lab[s] = ++next;
      ArrayDeque<Integer> q = new ArrayDeque<>(List.of(s));
      while (!q.isEmpty()) {
        int i = q.poll();
        for (int dy = -1; dy <= 1; dy++) {
          for (int dx = -1; dx <= 1; dx++) {
            if ((dx == 0 && dy == 0) || (!eight && dx != 0 && dy != 0)) {
              continue;
            }
            int x = i % w + dx;
            int y = i / w + dy;
            int j = y * w + x;
            if (x >= 0 && y >= 0 && x < w && y < h && m.data()[j] != 0 && lab[j] == 0) {
              lab[j] = next;
              q.add(j);
            }
          }
        }
      }
    }
    return lab;
  }

  @Test
  void componentsEqualFloodFillUpToRenaming() {
    for (long seed = 0; seed < 8; seed++) {
      IntImage m = noise(53, 41, 0.3 + 0.05 * seed, seed);
      for (Connectivity c : Connectivity.values()) {
        Components cc = ConnectedComponents.label(m, c);
        int[] ref = floodFill(m, c == Connectivity.EIGHT);
        Map<Integer, Integer> fwd = new HashMap<>();
        Map<Integer, Integer> back = new HashMap<>();
        long total = 0;
        for (int px = 0; px < ref.length; px++) {
          final int i = px;
          int a = cc.labels().data()[i];
          assertEquals(ref[i] == 0, a == 0);
          if (a != 0) { // a one-to-one renaming between the two labellings
            assertEquals(fwd.computeIfAbsent(a, k -> ref[i]), ref[i]);
            assertEquals(back.computeIfAbsent(ref[i], k -> a), a);
          }
        }
        assertEquals(fwd.size(), cc.count());
        for (int l = 1; l <= cc.count(); l++) {
          total += cc.area(l);
        }
        assertEquals(m.countNonZero(), total);
      }
    }
  }

  @Test
  void eightConnectivityJoinsDiagonals() {
    IntImage diag = new IntImage(3, 3, new int[] {1, 0, 0, 0, 1, 0, 0, 0, 1});
    assertEquals(1, ConnectedComponents.label(diag, Connectivity.EIGHT).count());
    assertEquals(3, ConnectedComponents.label(diag, Connectivity.FOUR).count());
  }

  @Test
  void eightConnectedLabelsFollowOpenCvBlockOrder() {
    // B's first pixel (row 0) comes before A's (row 1) in raster order, but A's 2x2 block (0,0)
    // comes before B's (0,2): OpenCV numbers A first.
    IntImage m = new IntImage(6, 2);
    m.set(0, 1, 1); // A
    m.set(5, 0, 1); // B
    Components cc = ConnectedComponents.label(m, Connectivity.EIGHT);
    assertEquals(1, cc.labels().get(0, 1));
    assertEquals(2, cc.labels().get(5, 0));
    Components four = ConnectedComponents.label(m, Connectivity.FOUR);
    assertEquals(1, four.labels().get(5, 0)); // SAUF: raster order of first pixels
  }

  @Test
  void removeSmallKeepsOnlyLargerComponents() {
    IntImage m = new IntImage(20, 5);
    for (int x = 0; x < 4; x++) {
      for (int y = 0; y < 4; y++) {
        m.set(x, y, 255);          // 16 px: kept
      }
    }
    for (int x = 10; x < 15; x++) {
      for (int y = 0; y < 3; y++) {
        m.set(x, y, 255);          // 15 px: removed at maxSize 15
      }
    }
    IntImage out = Instances.removeSmall(m, 15, Connectivity.EIGHT);
    assertEquals(16, out.countNonZero());
    assertEquals(1, out.get(0, 0));
    assertEquals(31, Instances.removeSmall(m, 14, Connectivity.EIGHT).countNonZero());
  }

  @Test
  void instanceIdsAreCompactedInOrderOfAppearance() {
    IntImage ids = new IntImage(4, 2, new int[] {0, 907, 907, 5, 12, 0, 907, 5});
    Components c = Instances.ofIds(ids);
    assertEquals(3, c.count());
    assertEquals(1, c.labels().get(1, 0));
    assertEquals(2, c.labels().get(3, 0));
    assertEquals(3, c.labels().get(0, 1));
    assertEquals(3, c.area(1));
  }

  @Test
  void labelImagesOfEitherConventionGiveTheirInstances() {
    // two touching regions: one instance as a 0/255 mask, two as ids
    IntImage binary = new IntImage(4, 1, new int[] {255, 255, 0, 255});
    assertEquals(2, Instances.of(binary).count());
    IntImage ids = new IntImage(4, 1, new int[] {3, 9, 0, 3});
    assertEquals(2, Instances.of(ids).count());
    assertEquals(2, Instances.of(ids).area(1)); // id 3 at both ends, not connected
  }

  @Test
  void centreIsTheCentroidOrTheNearestPixelOfTheInstance() {
    IntImage m = new IntImage(20, 20);
    for (int y = 2; y <= 6; y++) {
      for (int x = 2; x <= 8; x++) {
        m.set(x, y, 1);            // a rectangle: centroid (5, 4) is inside
      }
    }
    for (int y = 10; y <= 18; y++) { // a C shape whose centroid lies in the opening
      m.set(10, y, 1);
      m.set(11, y, 1);
    }
    for (int x = 10; x <= 18; x++) {
      m.set(x, 10, 1);
      m.set(x, 18, 1);
    }
    Components cc = ConnectedComponents.label(m, Connectivity.EIGHT);
    List<Point> c = CentrePoints.of(cc);
    assertEquals(new Point(5, 4), c.get(0));
    Point p = c.get(1);
    assertEquals(2, cc.labels().get(p.x(), p.y()), "the centre must be a pixel of the instance");
    assertTrue(p.x() <= 11 && p.y() == 14 || p.y() == 10 || p.y() == 18, p.toString());
  }

  @Test
  void densityPeaksAreOneAndPeaksAreFoundStrongestFirst() {
    List<Point> pts = List.of(new Point(10, 10), new Point(40, 12), new Point(42, 12));
    float[] d = DensityMap.render(pts, 64, 32, 3.0);
    assertEquals(1f, d[10 * 64 + 10], 1e-6);
    assertEquals((float) Math.exp(-1.0 / 18), d[10 * 64 + 11], 1e-6);
    assertEquals(1f, d[12 * 64 + 41], 0f); // overlapping Gaussians are clipped to 1
    List<Peaks.Peak> peaks = Peaks.find(d, 64, 32, 0.49f, 3, 10);
    assertTrue(peaks.stream().anyMatch(p -> p.point().equals(new Point(10, 10))));
    for (Peaks.Peak p : peaks) { // every peak is a local maximum above the threshold
      assertTrue(p.value() >= 0.49f);
      // the isolated point, or the clipped plateau where the two close Gaussians overlap
      assertTrue(p.point().equals(new Point(10, 10)) || Math.hypot(p.x() - 41, p.y() - 12) < 4, p.toString());
    }
    for (int i = 1; i < peaks.size(); i++) {
      assertTrue(peaks.get(i - 1).value() >= peaks.get(i).value(), "strongest first");
    }
    assertEquals(1, Peaks.find(d, 64, 32, 0.49f, 5, 1).size());
    assertEquals(0, Peaks.find(new float[64 * 32], 64, 32, 0.49f, 3, 10).size());
  }

  @Test
  void samplingIsReproducibleAndTakesTheFraction() {
    List<Point> centres = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      centres.add(new Point(i * 3 % 97, i));
    }
    List<Point> a = PointSampler.choose(centres, 0.15, 7, "vol", 3);
    assertEquals(30, a.size());
    assertEquals(a, PointSampler.choose(centres, 0.15, 7, "vol", 3));
    assertNotEquals(a, PointSampler.choose(centres, 0.15, 8, "vol", 3));
    List<Point> b = PointSampler.choose(centres, 0.5, 7, "vol", 3);
    assertTrue(b.containsAll(a), "a larger fraction extends a smaller one");
    assertEquals(0, PointSampler.choose(centres, 0.0, 7, "vol", 3).size());
    assertEquals(200, PointSampler.choose(centres, 1.0, 7, "vol", 3).size());
  }
}

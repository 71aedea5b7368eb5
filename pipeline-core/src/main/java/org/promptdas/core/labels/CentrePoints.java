package org.promptdas.core.labels;

import java.util.ArrayList;
import java.util.List;

/**
 * One centre point per instance: the moment centroid (mean x, mean y) rounded to the nearest pixel
 * (halves up); when that pixel is not part of the instance (a C- or ring-shaped mitochondrion),
 * the instance's pixel nearest to the centroid in Euclidean distance (ties: first in raster order).
 *
 * <p>Two passes over the label image plus one pass over the pixels of the few non-convex instances.
 * Stateless and thread-safe.
 */
public final class CentrePoints {
  private CentrePoints() {}

  /** Centre of every instance, index {@code i} holding instance {@code i + 1}. */
  public static List<Point> of(Components instances) {
    int n = instances.count();
    int w = instances.labels().width();
    int[] lab = instances.labels().data();
    double[] sx = new double[n + 1];
    double[] sy = new double[n + 1];
    for (int i = 0; i < lab.length; i++) {
      int l = lab[i];
      if (l != 0) {
        sx[l] += i % w;
        sy[l] += i / w;
      }
    }
    double[] cx = new double[n + 1];
    double[] cy = new double[n + 1];
    int[] px = new int[n + 1];
    int[] py = new int[n + 1];
    boolean[] outside = new boolean[n + 1];
    boolean anyOutside = false;
    for (int l = 1; l <= n; l++) {
      long a = instances.area(l);
      cx[l] = sx[l] / a;
      cy[l] = sy[l] / a;
      px[l] = (int) Math.floor(cx[l] + 0.5);
      py[l] = (int) Math.floor(cy[l] + 0.5);
      if (lab[py[l] * w + px[l]] != l) {
        outside[l] = true;
        anyOutside = true;
      }
    }
    if (anyOutside) {
      double[] best = new double[n + 1];
      java.util.Arrays.fill(best, Double.MAX_VALUE);
      for (int i = 0; i < lab.length; i++) {
        int l = lab[i];
        if (l != 0 && outside[l]) {
          double dx = i % w - cx[l];
          double dy = i / w - cy[l];
          double d = dx * dx + dy * dy;
          if (d < best[l]) {
            best[l] = d;
            px[l] = i % w;
            py[l] = i / w;
          }
        }
      }
    }
    List<Point> out = new ArrayList<>(n);
    for (int l = 1; l <= n; l++) {
      out.add(new Point(px[l], py[l]));
    }
    return out;
  }
}

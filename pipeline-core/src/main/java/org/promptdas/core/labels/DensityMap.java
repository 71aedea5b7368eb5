package org.promptdas.core.labels;

import java.util.Collection;

/**
 * Centre-point density maps, the detection head's regression target: the point map convolved with
 * a Gaussian of standard deviation {@code sigma} scaled so that an isolated point peaks at exactly
 * 1, then clipped to 1 where neighbouring Gaussians overlap (the authors scale by 255 and clip; this
 * is the same map on a 0..1 scale). The kernel is truncated at 4 sigma. Stateless and thread-safe.
 */
public final class DensityMap {
  private DensityMap() {}

  /** A {@code width x height} row-major map. Points outside the image are ignored. */
  public static float[] render(Collection<Point> points, int width, int height, double sigma) {
    if (!(sigma > 0)) {
      throw new IllegalArgumentException("sigma must be positive, got " + sigma);
    }
    int r = (int) Math.ceil(4 * sigma);
    double[] g = new double[2 * r + 1];
    for (int d = -r; d <= r; d++) {
      g[d + r] = Math.exp(-(d * (double) d) / (2 * sigma * sigma));
    }
    float[] map = new float[width * height];
    for (Point p : points) {
      if (p.x() < 0 || p.y() < 0 || p.x() >= width || p.y() >= height) {
        continue;
      }
      int y0 = Math.max(0, p.y() - r);
      int y1 = Math.min(height - 1, p.y() + r);
      int x0 = Math.max(0, p.x() - r);
      int x1 = Math.min(width - 1, p.x() + r);
      for (int y = y0; y <= y1; y++) {
        double gy = g[y - p.y() + r];
        int row = y * width;
        for (int x = x0; x <= x1; x++) {
          map[row + x] += (float) (gy * g[x - p.x() + r]);
        }
      }
    }
    for (int i = 0; i < map.length; i++) {
      if (map[i] > 1f) {
        map[i] = 1f;
      }
    }
    return map;
  }
}

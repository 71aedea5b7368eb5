package org.promptdas.core.geometry;

import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;

/**
 * Rotations of square images, maps and points by multiples of 90 degrees clockwise (k mod 4), as
 * used by augmentation and by test-time rotation averaging. Stateless and thread-safe.
 */
public final class Rot90 {
  private Rot90() {}

  /** Where pixel {@code p} of an {@code n x n} image lands after {@code k} clockwise quarter turns. */
  public static Point point(Point p, int n, int k) {
    int x = p.x();
    int y = p.y();
    for (int r = 0; r < Math.floorMod(k, 4); r++) {
      int nx = n - 1 - y;
      y = x;
      x = nx;
    }
    return new Point(x, y);
  }

  public static IntImage image(IntImage src, int k) {
    int n = square(src.width(), src.height());
    IntImage out = new IntImage(n, n);
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        Point p = point(new Point(x, y), n, k);
        out.set(p.x(), p.y(), src.get(x, y));
      }
    }
    return out;
  }

  /** A row-major {@code n x n} float map rotated by {@code k} quarter turns. */
  public static float[] map(float[] src, int n, int k) {
    float[] out = new float[src.length];
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        Point p = point(new Point(x, y), n, k);
        out[p.y() * n + p.x()] = src[y * n + x];
      }
    }
    return out;
  }

  private static int square(int w, int h) {
    if (w != h) {
      throw new IllegalArgumentException("quarter turns need a square image, got " + w + "x" + h);
    }
    return w;
  }
}

package org.promptdas.core.geometry;

import org.promptdas.core.image.IntImage;

/**
 * Copies a {@link Window} out of a slice. Inside the slice the copy is exact; outside (only for
 * slices smaller than the crop) images are mirrored at the edge (reflect-101, so textures continue)
 * and labels are padded with 0 (background). Stateless and thread-safe.
 */
public final class Crops {
  private Crops() {}

  /** How pixels outside the slice are filled. */
  public enum Padding {
    /** Mirror without repeating the edge pixel: for images. */
    REFLECT,
    /** Zero: for labels and masks. */
    ZERO
  }

  public static IntImage extract(IntImage src, Window w, Padding padding) {
    int[] out = new int[w.width() * w.height()];
    int[] s = src.data();
    int sw = src.width();
    for (int dy = 0; dy < w.height(); dy++) {
      int y = w.y() + dy;
      boolean rowInside = y >= 0 && y < src.height();
      if (rowInside && w.x() >= 0 && w.x() + w.width() <= sw) {
        System.arraycopy(s, y * sw + w.x(), out, dy * w.width(), w.width());
        continue;
      }
      for (int dx = 0; dx < w.width(); dx++) {
        int x = w.x() + dx;
        int v;
        if (rowInside && x >= 0 && x < sw) {
          v = s[y * sw + x];
        } else if (padding == Padding.ZERO) {
          v = 0;
        } else {
          v = s[reflect(y, src.height()) * sw + reflect(x, sw)];
        }
        out[dy * w.width() + dx] = v;
      }
    }
    return new IntImage(w.width(), w.height(), out);
  }

  /** Reflect-101 index into 0..n-1 (… 2 1 | 0 1 2 … n-1 | n-2 …), periodic for far indices. */
  static int reflect(int i, int n) {
    if (n == 1) {
      return 0;
    }
    int period = 2 * (n - 1);
    int m = Math.floorMod(i, period);
    return m < n ? m : period - m;
  }
}

package org.promptdas.core.baseline;

import org.promptdas.core.image.IntImage;

/**
 * A deliberately simple, training-free segmentation used as the reference point until the network
 * runs and as a sanity floor for every learned model: smooth with a 5x5 box filter, threshold at
 * Otsu's level (mitochondria are darker than cytoplasm in both synthetic domains and in the real
 * data sets), and report the dark side. It knows nothing about shape, so membranes and vesicles
 * become false positives; that is the point of a baseline. Stateless and thread-safe.
 */
public final class IntensityBaseline {
  private IntensityBaseline() {}

  /** A binary mask (1 = predicted mitochondria) for an 8-bit image. */
  public static IntImage predict(IntImage image) {
    int w = image.width();
    int h = image.height();
    int[] smooth = boxMean(image.data(), w, h, 2);
    int t = otsu(smooth);
    int[] out = new int[smooth.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = smooth[i] <= t ? 1 : 0;
    }
    return new IntImage(w, h, out);
  }

  /** Otsu's threshold of 8-bit samples: the level that maximises between-class variance. */
  static int otsu(int[] v) {
    long[] hist = new long[256];
    for (int x : v) {
      hist[Math.max(0, Math.min(255, x))]++;
    }
    long total = v.length;
    double sumAll = 0;
    for (int i = 0; i < 256; i++) {
      sumAll += i * (double) hist[i];
    }
    double sumB = 0;
    long wB = 0;
    double best = -1;
    int level = 0;
    for (int t = 0; t < 256; t++) {
      wB += hist[t];
      if (wB == 0) {
        continue;
      }
      long wF = total - wB;
      if (wF == 0) {
        break;
      }
      sumB += t * (double) hist[t];
      double mB = sumB / wB;
      double mF = (sumAll - sumB) / wF;
      double between = (double) wB * wF * (mB - mF) * (mB - mF);
      if (between > best) {
        best = between;
        level = t;
      }
    }
    return level;
  }

  private static int[] boxMean(int[] src, int w, int h, int r) {
    long[] integral = new long[(w + 1) * (h + 1)];
    for (int y = 0; y < h; y++) {
      long row = 0;
      for (int x = 0; x < w; x++) {
        row += src[y * w + x];
        integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
      }
    }
    int[] out = new int[src.length];
    for (int y = 0; y < h; y++) {
      int y0 = Math.max(0, y - r);
      int y1 = Math.min(h, y + r + 1);
      for (int x = 0; x < w; x++) {
        int x0 = Math.max(0, x - r);
        int x1 = Math.min(w, x + r + 1);
        long s = integral[y1 * (w + 1) + x1] - integral[y0 * (w + 1) + x1]
            - integral[y1 * (w + 1) + x0] + integral[y0 * (w + 1) + x0];
        out[y * w + x] = (int) (s / ((long) (x1 - x0) * (y1 - y0)));
      }
    }
    return out;
  }
}

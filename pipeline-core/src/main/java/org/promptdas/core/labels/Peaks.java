package org.promptdas.core.labels;

import java.util.ArrayList;
import java.util.List;

/**
 * Points from a density map: pixels at or above {@code threshold} (and above 0) that equal the
 * maximum of the {@code window x window} neighbourhood around them (a max filter; the authors use
 * 5x5 for prompts and 3x3 elsewhere, threshold 125/255), strongest first (ties in raster order),
 * at most {@code maxPoints}. Pixels of a flat plateau are all maxima. Stateless and thread-safe.
 */
public final class Peaks {
  private Peaks() {}

  /** A detected point and its density value. */
  public record Peak(int x, int y, float value) {
    public Point point() {
      return new Point(x, y);
    }
  }

  public static List<Peak> find(float[] map, int width, int height, float threshold, int window,
      int maxPoints) {
    if (window < 1 || window % 2 == 0) {
      throw new IllegalArgumentException("window must be odd and positive, got " + window);
    }
    if (map.length != width * height) {
      throw new IllegalArgumentException("map has " + map.length + " values for " + width + "x" + height);
    }
    float[] max = maxFilter(map, width, height, window / 2);
    List<Peak> peaks = new ArrayList<>();
    for (int i = 0; i < map.length; i++) {
      float v = map[i];
      if (v > 0 && v >= threshold && v == max[i]) {
        peaks.add(new Peak(i % width, i / width, v));
      }
    }
    peaks.sort((a, b) -> Float.compare(b.value(), a.value())); // stable: raster order within ties
    return peaks.size() > maxPoints ? new ArrayList<>(peaks.subList(0, maxPoints)) : peaks;
  }

  /** Separable max filter with the window clipped at the borders. */
  static float[] maxFilter(float[] src, int w, int h, int r) {
    float[] rows = new float[src.length];
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        float m = Float.NEGATIVE_INFINITY;
        for (int k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) {
          m = Math.max(m, src[row + k]);
        }
        rows[row + x] = m;
      }
    }
    float[] out = new float[src.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        float m = Float.NEGATIVE_INFINITY;
        for (int k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) {
          m = Math.max(m, rows[k * w + x]);
        }
        out[y * w + x] = m;
      }
    }
    return out;
  }
}

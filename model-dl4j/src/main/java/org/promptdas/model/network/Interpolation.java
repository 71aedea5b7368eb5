package org.promptdas.model.network;

/**
 * Fixed resampling matrices, so that resampling is a matrix product in the graph (SameDiff M2.1's
 * resize ops lack gradients): PyTorch's bicubic (A = -0.75, edge-clamped taps, explicit scale
 * factor) for the position embedding. (Bilinear x2 is done with shifted copies in the graph.)
 * Stateless and thread-safe.
 */
public final class Interpolation {
  private Interpolation() {}

  /**
   * 1-D bicubic resampling from {@code src} to {@code dst} samples with PyTorch's explicit-scale
   * source coordinate {@code (d + 0.5) / scale - 0.5}: a {@code dst x src} row-major matrix.
   */
  public static double[][] bicubic(int src, int dst, double scale) {
    double a = -0.75;
    double[][] m = new double[dst][src];
    for (int d = 0; d < dst; d++) {
      double x = (d + 0.5) / scale - 0.5;
      int x0 = (int) Math.floor(x);
      double t = x - x0;
      double[] w = {
          cubic2(t + 1, a), cubic1(t, a), cubic1(1 - t, a), cubic2(2 - t, a)};
      for (int k = 0; k < 4; k++) {
        int idx = Math.min(src - 1, Math.max(0, x0 - 1 + k));
        m[d][idx] += w[k];
      }
    }
    return m;
  }

  private static double cubic1(double x, double a) {
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  }

  private static double cubic2(double x, double a) {
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  }

  /** The 2-D separable resampling as one matrix on row-major grids: {@code (dh*dw) x (sh*sw)}. */
  public static double[][] kron(double[][] rows, double[][] cols) {
    int dh = rows.length;
    int sh = rows[0].length;
    int dw = cols.length;
    int sw = cols[0].length;
    double[][] m = new double[dh * dw][sh * sw];
    for (int i = 0; i < dh; i++) {
      for (int j = 0; j < dw; j++) {
        for (int p = 0; p < sh; p++) {
          if (rows[i][p] == 0) {
            continue;
          }
          for (int q = 0; q < sw; q++) {
            m[i * dw + j][p * sw + q] = rows[i][p] * cols[j][q];
          }
        }
      }
    }
    return m;
  }
}

package org.promptdas.core.synth;

import java.util.SplittableRandom;
import org.promptdas.core.image.IntImage;

/**
 * Generates synthetic EM slices with exact mitochondria labels: smooth textured cytoplasm, cell
 * membranes (Voronoi boundaries), mitochondria as non-overlapping ellipses with a dark double
 * membrane and cristae across the long axis, unlabelled vesicles as distractors, blur and noise, all
 * set by a {@link Domain}. Output is deterministic in (domain, size, seed).
 *
 * <p>Stateless and thread-safe. Example:
 * <pre>{@code
 * SynthEm.Sample s = SynthEm.generate(Domain.TARGET, 512, 512, 42L);
 * IntImage img = s.image();   // 8-bit grey
 * IntImage ids = s.labels();  // instance ids 1..n, 0 = background
 * }</pre>
 */
public final class SynthEm {
  private SynthEm() {}

  /** One generated slice: the 8-bit image and its instance-id labels. */
  public record Sample(IntImage image, IntImage labels, int instances) {}

  public static Sample generate(Domain d, int width, int height, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double megapixels = width * (double) height / 1e6;
    double[] img = texture(width, height, d, rnd);
    drawCellMembranes(img, width, height, d, rnd, megapixels);
    int[] labels = new int[width * height];
    int instances = drawMitochondria(img, labels, width, height, d, rnd, megapixels);
    drawVesicles(img, labels, width, height, d, rnd, megapixels);
    if (d.blur() > 0) {
      img = boxBlur(img, width, height, d.blur());
    }
    int[] out = new int[img.length];
    for (int i = 0; i < img.length; i++) {
      double v = img[i] + d.noise() * rnd.nextGaussian();
      out[i] = (int) Math.max(0, Math.min(255, Math.round(v)));
    }
    return new Sample(new IntImage(width, height, out), new IntImage(width, height, labels), instances);
  }

  /** Background level plus two octaves of bilinear value noise. */
  private static double[] texture(int w, int h, Domain d, SplittableRandom rnd) {
    double[] img = new double[w * h];
    java.util.Arrays.fill(img, d.background());
    for (int cell : new int[] {48, 12}) {
      int gw = w / cell + 2;
      int gh = h / cell + 2;
      double[] grid = new double[gw * gh];
      for (int i = 0; i < grid.length; i++) {
        grid[i] = rnd.nextDouble(-1, 1);
      }
      double amp = d.textureAmplitude() * (cell == 48 ? 0.7 : 0.3);
      for (int y = 0; y < h; y++) {
        double fy = y / (double) cell;
        int gy = (int) fy;
        double ty = fy - gy;
        for (int x = 0; x < w; x++) {
          double fx = x / (double) cell;
          int gx = (int) fx;
          double tx = fx - gx;
          double a = grid[gy * gw + gx] * (1 - tx) + grid[gy * gw + gx + 1] * tx;
          double b = grid[(gy + 1) * gw + gx] * (1 - tx) + grid[(gy + 1) * gw + gx + 1] * tx;
          img[y * w + x] += amp * (a * (1 - ty) + b * ty);
        }
      }
    }
    return img;
  }

  /**
   * Dark lines where the two nearest Voronoi seeds are almost equally near. Seeds are bucketed on
   * a grid of about one seed per cell and each pixel looks at the 5x5 cells around it, so the cost
   * is linear in the pixel count (a 4096x4096 slice takes well under a second).
   */
  private static void drawCellMembranes(double[] img, int w, int h, Domain d, SplittableRandom rnd,
      double megapixels) {
    int n = Math.max(2, (int) Math.round(d.cellsPerMegapixel() * megapixels));
    double cell = Math.sqrt(w * (double) h / n);
    int gw = (int) Math.ceil(w / cell);
    int gh = (int) Math.ceil(h / cell);
    @SuppressWarnings("unchecked")
    java.util.List<double[]>[] buckets = new java.util.List[gw * gh];
    for (int i = 0; i < n; i++) {
      double sx = rnd.nextDouble(w);
      double sy = rnd.nextDouble(h);
      int b = Math.min(gh - 1, (int) (sy / cell)) * gw + Math.min(gw - 1, (int) (sx / cell));
      if (buckets[b] == null) {
        buckets[b] = new java.util.ArrayList<>();
      }
      buckets[b].add(new double[] {sx, sy});
    }
    double thickness = 2.2;
    for (int y = 0; y < h; y++) {
      int by = Math.min(gh - 1, (int) (y / cell));
      for (int x = 0; x < w; x++) {
        int bx = Math.min(gw - 1, (int) (x / cell));
        double d1 = Double.MAX_VALUE;
        double d2 = Double.MAX_VALUE;
        for (int yy = Math.max(0, by - 2); yy <= Math.min(gh - 1, by + 2); yy++) {
          for (int xx = Math.max(0, bx - 2); xx <= Math.min(gw - 1, bx + 2); xx++) {
            java.util.List<double[]> bucket = buckets[yy * gw + xx];
            if (bucket == null) {
              continue;
            }
            for (double[] seed : bucket) {
              double dx = x - seed[0];
              double dy = y - seed[1];
              double dist = Math.sqrt(dx * dx + dy * dy);
              if (dist < d1) {
                d2 = d1;
                d1 = dist;
              } else if (dist < d2) {
                d2 = dist;
              }
            }
          }
        }
        double gap = (d2 - d1) / 2;
        if (gap < thickness) {
          double wgt = 1 - gap / thickness;
          img[y * w + x] = img[y * w + x] * (1 - wgt) + d.membrane() * wgt;
        }
      }
    }
  }

  private static int drawMitochondria(double[] img, int[] labels, int w, int h, Domain d,
      SplittableRandom rnd, double megapixels) {
    int target = (int) Math.round(d.mitoPerMegapixel() * megapixels * rnd.nextDouble(0.8, 1.2));
    int placed = 0;
    for (int attempt = 0; attempt < target * 30 && placed < target; attempt++) {
      double a = rnd.nextDouble(d.majorAxis()[0], d.majorAxis()[1]);
      double b = a * rnd.nextDouble(d.aspect()[0], d.aspect()[1]);
      double cx = rnd.nextDouble(-a / 2, w + a / 2);
      double cy = rnd.nextDouble(-a / 2, h + a / 2);
      double th = rnd.nextDouble(Math.PI);
      double cos = Math.cos(th);
      double sin = Math.sin(th);
      int x0 = Math.max(0, (int) Math.floor(cx - a - 3));
      int x1 = Math.min(w - 1, (int) Math.ceil(cx + a + 3));
      int y0 = Math.max(0, (int) Math.floor(cy - a - 3));
      int y1 = Math.min(h - 1, (int) Math.ceil(cy + a + 3));
      if (x0 > x1 || y0 > y1 || !free(labels, w, x0, x1, y0, y1, cx, cy, cos, sin, a + 3, b + 3)) {
        continue;
      }
      int id = placed + 1;
      int area = 0;
      double phase = rnd.nextDouble(2 * Math.PI);
      for (int y = y0; y <= y1; y++) {
        for (int x = x0; x <= x1; x++) {
          double u = (x - cx) * cos + (y - cy) * sin;
          double v = -(x - cx) * sin + (y - cy) * cos;
          double r = Math.sqrt((u / a) * (u / a) + (v / b) * (v / b));
          if (r > 1) {
            continue;
          }
          labels[y * w + x] = id;
          area++;
          double edge = (1 - r) * b; // distance-like depth inside the outline, px
          double value;
          if (edge < 1.6) {
            value = d.membrane();
          } else if (edge < 2.4) {
            value = (d.membrane() + d.matrix()) / 2 + 15;
          } else {
            value = d.matrix();
            if (d.cristaeSpacing() > 0) {
              double s = Math.cos(2 * Math.PI * u / d.cristaeSpacing() + phase);
              value += s > 0.6 ? 45 * (s - 0.6) / 0.4 : 0;
            }
          }
          img[y * w + x] = value;
        }
      }
      if (area == 0) {
        continue;
      }
      placed++;
    }
    return placed;
  }

  /** True when the ellipse's surroundings hold no earlier instance. */
  private static boolean free(int[] labels, int w, int x0, int x1, int y0, int y1, double cx,
      double cy, double cos, double sin, double a, double b) {
    for (int y = y0; y <= y1; y++) {
      for (int x = x0; x <= x1; x++) {
        if (labels[y * w + x] == 0) {
          continue;
        }
        double u = (x - cx) * cos + (y - cy) * sin;
        double v = -(x - cx) * sin + (y - cy) * cos;
        if ((u / a) * (u / a) + (v / b) * (v / b) <= 1) {
          return false;
        }
      }
    }
    return true;
  }

  /** Small round vesicles (light lumen, dark rim), never on mitochondria, never labelled. */
  private static void drawVesicles(double[] img, int[] labels, int w, int h, Domain d,
      SplittableRandom rnd, double megapixels) {
    int n = (int) Math.round(d.vesiclesPerMegapixel() * megapixels);
    for (int k = 0; k < n; k++) {
      double r = rnd.nextDouble(3, 7);
      double cx = rnd.nextDouble(w);
      double cy = rnd.nextDouble(h);
      int x0 = Math.max(0, (int) (cx - r - 1));
      int x1 = Math.min(w - 1, (int) (cx + r + 1));
      int y0 = Math.max(0, (int) (cy - r - 1));
      int y1 = Math.min(h - 1, (int) (cy + r + 1));
      for (int y = y0; y <= y1; y++) {
        for (int x = x0; x <= x1; x++) {
          double dist = Math.hypot(x - cx, y - cy);
          if (dist <= r && labels[y * w + x] == 0) {
            img[y * w + x] = dist > r - 1.5 ? d.membrane() + 10 : d.background() + 25;
          }
        }
      }
    }
  }

  private static double[] boxBlur(double[] src, int w, int h, int r) {
    return blurPass(blurPass(src, w, h, r, 1, w), h, w, r, w, 1);
  }

  /**
   * One 1-D box-filter pass over {@code lines} lines of {@code n} samples: sample k of line l is at
   * {@code l * lineStride + k * step} (rows: step 1, stride w; columns: step w, stride 1).
   */
  private static double[] blurPass(double[] src, int n, int lines, int r, int step, int lineStride) {
    double[] out = new double[src.length];
    for (int l = 0; l < lines; l++) {
      int base = l * lineStride;
      for (int k = 0; k < n; k++) {
        double s = 0;
        int lo = Math.max(0, k - r);
        int hi = Math.min(n - 1, k + r);
        for (int j = lo; j <= hi; j++) {
          s += src[base + j * step];
        }
        out[base + k * step] = s / (hi - lo + 1);
      }
    }
    return out;
  }
}

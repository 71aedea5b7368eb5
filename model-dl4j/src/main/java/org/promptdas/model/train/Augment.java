package org.promptdas.model.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.promptdas.core.geometry.Rot90;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;

/**
 * The augmentations of WDA-Net that the paper reuses, applied alike to a crop, its labels and its
 * points: a random horizontal flip, a random number of 90-degree rotations, and intensity jitter
 * of the image (contrast x [0.8, 1.2], brightness +- 20 grey levels, clipped); and a strong
 * photometric view for the student's side of self-training ({@link #strongPhotometric}). Square
 * crops only.
 */
public final class Augment {
  private Augment() {}

  public static Sample apply(Sample s, SplittableRandom rnd) {
    boolean flip = rnd.nextBoolean();
    int rot = rnd.nextInt(4);
    double contrast = rnd.nextDouble(0.8, 1.2);
    double brightness = rnd.nextDouble(-20, 20);
    IntImage img = geometric(s.image(), flip, rot);
    int max = img.max() > 255 ? 65535 : 255;
    int[] d = img.data();
    double mean = 0;
    for (int v : d) {
      mean += v;
    }
    mean /= d.length;
    for (int i = 0; i < d.length; i++) {
      d[i] = (int) Math.max(0, Math.min(max, Math.round((d[i] - mean) * contrast + mean + brightness)));
    }
    IntImage lab = s.label() == null ? null : geometric(s.label(), flip, rot);
    List<Point> pts = new ArrayList<>();
    for (Point p : s.points()) {
      pts.add(point(p, s.image().width(), flip, rot));
    }
    return new Sample(img, lab, pts);
  }

  /**
   * The strong photometric view of a crop that the student sees of a target crop whose
   * pseudo-labels the teacher made from the plain view (after FixMatch): gamma in [0.6, 1.6],
   * contrast x [0.6, 1.4], brightness +- 30 grey levels, a Gaussian blur (sigma 0.5-1.5 px) half
   * of the time and Gaussian noise (sigma up to 10 grey levels); geometry is untouched, so the
   * pseudo-labels still fit. Learning the teacher's answer from a harder view is what makes
   * self-training generalise instead of repeating the teacher. Returns a new image.
   */
  public static IntImage strongPhotometric(IntImage src, SplittableRandom rnd) {
    double gamma = rnd.nextDouble(0.6, 1.6);
    double contrast = rnd.nextDouble(0.6, 1.4);
    double brightness = rnd.nextDouble(-30, 30);
    boolean blur = rnd.nextBoolean();
    double sigma = rnd.nextDouble(0.5, 1.5);
    double noise = rnd.nextDouble(0, 10);
    int max = src.max() > 255 ? 65535 : 255;
    double scale = max / 255.0;
    int n = src.size();
    double[] v = new double[n];
    double mean = 0;
    for (int i = 0; i < n; i++) {
      v[i] = 255 * Math.pow(src.data()[i] / (double) max, gamma);
      mean += v[i];
    }
    mean /= n;
    for (int i = 0; i < n; i++) {
      v[i] = (v[i] - mean) * contrast + mean + brightness;
    }
    if (blur) {
      v = gaussianBlur(v, src.width(), src.height(), sigma);
    }
    IntImage out = new IntImage(src.width(), src.height());
    for (int i = 0; i < n; i++) {
      double x = v[i] + noise * rnd.nextGaussian();
      out.data()[i] = (int) Math.max(0, Math.min(max, Math.round(x * scale)));
    }
    return out;
  }

  /** Separable Gaussian blur, edges clamped. */
  static double[] gaussianBlur(double[] v, int w, int h, double sigma) {
    int r = (int) Math.ceil(3 * sigma);
    double[] k = new double[2 * r + 1];
    double sum = 0;
    for (int i = -r; i <= r; i++) {
      k[i + r] = Math.exp(-i * i / (2 * sigma * sigma));
      sum += k[i + r];
    }
    for (int i = 0; i < k.length; i++) {
      k[i] /= sum;
    }
    double[] rows = new double[v.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double acc = 0;
        for (int i = -r; i <= r; i++) {
          acc += k[i + r] * v[y * w + Math.min(w - 1, Math.max(0, x + i))];
        }
        rows[y * w + x] = acc;
      }
    }
    double[] out = new double[v.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double acc = 0;
        for (int i = -r; i <= r; i++) {
          acc += k[i + r] * rows[Math.min(h - 1, Math.max(0, y + i)) * w + x];
        }
        out[y * w + x] = acc;
      }
    }
    return out;
  }

  /** Flip (mirror x), then rotate by {@code rot} x 90 degrees clockwise; returns a new image. */
  static IntImage geometric(IntImage src, boolean flip, int rot) {
    int n = src.width();
    if (!flip) {
      return Rot90.image(src, rot);
    }
    IntImage mirrored = new IntImage(n, src.height());
    for (int y = 0; y < src.height(); y++) {
      for (int x = 0; x < n; x++) {
        mirrored.set(n - 1 - x, y, src.get(x, y));
      }
    }
    return Rot90.image(mirrored, rot);
  }

  static Point point(Point p, int n, boolean flip, int rot) {
    return Rot90.point(flip ? new Point(n - 1 - p.x(), p.y()) : p, n, rot);
  }
}

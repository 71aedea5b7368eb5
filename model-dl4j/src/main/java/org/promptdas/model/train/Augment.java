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
 * of the image (contrast x [0.8, 1.2], brightness +- 20 grey levels, clipped). Square crops only.
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

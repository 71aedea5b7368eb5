package org.promptdas.core.metrics;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;

/**
 * Deterministic (prediction, ground truth) pairs that exercise every branch of the metric protocol:
 * perfect, eroded, dilated, shifted and speckled predictions, empty sides, merges, splits, random
 * blobs with many partial overlaps, crafted arg-max ties, dense noise and a synthetic slice with a
 * threshold "prediction". {@code main(dir)} writes them as PNGs under {@code dir/pred} and
 * {@code dir/gt} so that {@code metrics_ref.py} can score them; the scores are committed in
 * {@code metrics-parity.jsonl} (see {@code scripts/metrics-parity-fixtures.sh}).
 */
public final class ParityCases {
  private ParityCases() {}

  public record Case(String name, IntImage pred, IntImage gt) {}

  public static List<Case> all() {
    List<Case> out = new ArrayList<>();
    SynthEm.Sample s = SynthEm.generate(Domain.TARGET, 256, 192, 11);
    IntImage gt = s.labels().binarize();
    out.add(new Case("perfect", gt.copy(), gt));
    out.add(new Case("eroded", erode(gt), gt));
    out.add(new Case("dilated", dilate(dilate(gt)), gt));
    out.add(new Case("shifted", shift(gt, 3, -2), gt));
    out.add(new Case("speckled", speckle(gt, 0.01, 1), gt));
    out.add(new Case("empty-gt", speckle(new IntImage(128, 96), 0.002, 2), new IntImage(128, 96)));
    out.add(new Case("empty-pred", new IntImage(256, 192), gt));
    out.add(new Case("empty-both", new IntImage(64, 48), new IntImage(64, 48)));
    out.add(new Case("merged", dilate(dilate(dilate(dilate(gt)))), gt));
    out.add(new Case("random-blobs", blobs(200, 160, 40, 3), blobs(200, 160, 40, 4)));
    out.add(new Case("ties", tiePrediction(), tieTruth()));
    out.add(new Case("dense-noise", noise(96, 80, 0.45, 5), noise(96, 80, 0.5, 6)));
    SynthEm.Sample big = SynthEm.generate(Domain.SOURCE, 1024, 768, 12);
    out.add(new Case("threshold-1024x768", threshold(big.image(), 110), big.labels()));
    return out;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir.resolve("pred"));
    Files.createDirectories(dir.resolve("gt"));
    for (Case c : all()) {
      Files.write(dir.resolve("pred").resolve(c.name() + ".png"), PngWriter.mask(c.pred()));
      Files.write(dir.resolve("gt").resolve(c.name() + ".png"), PngWriter.greyAuto(c.gt()));
    }
  }

  static IntImage erode(IntImage m) {
    return morph(m, true);
  }

  static IntImage dilate(IntImage m) {
    return morph(m, false);
  }

  private static IntImage morph(IntImage m, boolean erode) {
    IntImage out = new IntImage(m.width(), m.height());
    for (int y = 0; y < m.height(); y++) {
      for (int x = 0; x < m.width(); x++) {
        boolean all = true;
        boolean any = false;
        for (int dy = -1; dy <= 1; dy++) {
          for (int dx = -1; dx <= 1; dx++) {
            int xx = Math.min(m.width() - 1, Math.max(0, x + dx));
            int yy = Math.min(m.height() - 1, Math.max(0, y + dy));
            boolean v = m.get(xx, yy) != 0;
            all &= v;
            any |= v;
          }
        }
        out.set(x, y, (erode ? all : any) ? 1 : 0);
      }
    }
    return out;
  }

  private static IntImage shift(IntImage m, int sx, int sy) {
    IntImage out = new IntImage(m.width(), m.height());
    for (int y = 0; y < m.height(); y++) {
      for (int x = 0; x < m.width(); x++) {
        int xx = x - sx;
        int yy = y - sy;
        if (xx >= 0 && yy >= 0 && xx < m.width() && yy < m.height()) {
          out.set(x, y, m.get(xx, yy));
        }
      }
    }
    return out;
  }

  private static IntImage speckle(IntImage m, double p, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    IntImage out = m.binarize();
    for (int i = 0; i < out.size(); i++) {
      if (r.nextDouble() < p) {
        int x = i % out.width();
        int y = i / out.width();
        int size = r.nextInt(1, 6);
        for (int dy = 0; dy < size && y + dy < out.height(); dy++) {
          for (int dx = 0; dx < size && x + dx < out.width(); dx++) {
            out.set(x + dx, y + dy, 1);
          }
        }
      }
    }
    return out;
  }

  private static IntImage blobs(int w, int h, int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    IntImage out = new IntImage(w, h);
    for (int k = 0; k < n; k++) {
      double cx = r.nextDouble(w);
      double cy = r.nextDouble(h);
      double rx = r.nextDouble(2, 14);
      double ry = r.nextDouble(2, 14);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          double u = (x - cx) / rx;
          double v = (y - cy) / ry;
          if (u * u + v * v <= 1) {
            out.set(x, y, 1);
          }
        }
      }
    }
    return out;
  }

  /**
   * AJI arg-max ties that change the score: ground truth A (5x3) and B (3x3); prediction P (2x4)
   * and Q (4x2, reaching into B) overlap A equally (same intersection and union), and Q is B's
   * best match, so picking P or Q for A changes the union. The arrangement is drawn once as is
   * (P first in label order) and once rotated by 180 degrees (Q first); the reference picks the
   * first prediction in OpenCV's label order.
   */
  private static final int[][] TIE_TRUTH = {{0, 2, 5, 3}, {6, 2, 3, 3}}; // x, y, w, h in a 9x5 frame
  private static final int[][] TIE_PRED = {{0, 0, 2, 4}, {3, 2, 4, 2}};

  private static IntImage tieTruth() {
    return tieImage(TIE_TRUTH);
  }

  private static IntImage tiePrediction() {
    return tieImage(TIE_PRED);
  }

  private static IntImage tieImage(int[][] rects) {
    int k = 3; // scaled so every component survives the 15 px removal; ties scale exactly
    IntImage m = new IntImage(16 * k, 20 * k);
    for (int[] r : rects) {
      fill(m, k * (2 + r[0]), k * (2 + r[1]), k * r[2], k * r[3]);
      fill(m, k * (2 + 9 - r[0] - r[2]), k * (11 + 5 - r[1] - r[3]), k * r[2], k * r[3]); // 180 deg
    }
    return m;
  }

  private static void fill(IntImage m, int x, int y, int w, int h) {
    for (int yy = y; yy < y + h; yy++) {
      for (int xx = x; xx < x + w; xx++) {
        m.set(xx, yy, 1);
      }
    }
  }

  private static IntImage noise(int w, int h, double p, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    IntImage out = new IntImage(w, h);
    for (int i = 0; i < out.size(); i++) {
      out.data()[i] = r.nextDouble() < p ? 1 : 0;
    }
    return out;
  }

  private static IntImage threshold(IntImage img, int level) {
    IntImage out = new IntImage(img.width(), img.height());
    for (int i = 0; i < img.size(); i++) {
      out.data()[i] = img.data()[i] < level ? 1 : 0;
    }
    return out;
  }
}

package org.promptdas.core.metrics;

import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;

/**
 * What a predicted slice may be: a mask (0 and one value) or a label image (0 and instance ids,
 * constant inside each instance), which the scorer reads as non-zero = mitochondria; a probability
 * map only with a threshold. A probability map scored as a mask would count every pixel above 0 as
 * foreground and give a wrong score without any error. Stateless and thread-safe.
 */
public final class Predictions {
  /**
   * Share of horizontally adjacent foreground pairs that may differ in a label image: its values
   * change only where instances touch; a probability map's change almost everywhere.
   */
  static final double MAX_CHANGING_PAIRS = 0.05;

  private Predictions() {}

  /**
   * The prediction as the scorer takes it.
   *
   * @param threshold a fraction of the image's full scale (255 or 65535) above which a pixel is
   *     foreground, or a negative number when {@code pred} must be a mask or a label image
   * @throws BadInput naming {@code name} when no threshold is given and {@code pred} looks graded
   */
  public static IntImage asMask(IntImage pred, double threshold, String name) {
    if (threshold >= 0) {
      int scale = pred.max() > 255 ? 65535 : 255;
      IntImage out = new IntImage(pred.width(), pred.height());
      for (int i = 0; i < out.size(); i++) {
        out.data()[i] = pred.data()[i] > threshold * scale ? 1 : 0;
      }
      return out;
    }
    if (graded(pred)) {
      throw new BadInput(name + ": looks like a probability map, not a mask or label image (its "
          + "values change between most neighbouring foreground pixels); score infer's mask/ folder, or "
          + "set evaluate.threshold (e.g. 0.5) to binarise it");
    }
    return pred;
  }

  /** True when more than {@link #MAX_CHANGING_PAIRS} of the adjacent foreground pairs differ. */
  static boolean graded(IntImage img) {
    long pairs = 0;
    long changing = 0;
    int w = img.width();
    int[] d = img.data();
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x + 1 < w; x++) {
        int a = d[y * w + x];
        int b = d[y * w + x + 1];
        if (a != 0 && b != 0) {
          pairs++;
          changing += a != b ? 1 : 0;
        }
      }
    }
    return changing > MAX_CHANGING_PAIRS * pairs;
  }
}

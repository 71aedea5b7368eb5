package org.promptdas.core.metrics;

import org.promptdas.core.image.IntImage;

/**
 * A picture of where a prediction is right and wrong, in the paper's colours: true positive green,
 * false negative red, false positive blue, over the EM slice (dimmed) or black. Returns packed
 * 0xRRGGBB pixels for {@link org.promptdas.core.io.PngWriter#rgb}. Stateless and thread-safe.
 */
public final class ErrorOverlay {
  public static final int TRUE_POSITIVE = 0x00C000;
  public static final int FALSE_NEGATIVE = 0xE00000;
  public static final int FALSE_POSITIVE = 0x0050FF;

  private ErrorOverlay() {}

  /**
   * @param predMask binary prediction (after post-processing)
   * @param gtMask binary ground truth
   * @param image the slice (8-bit) to draw under the colours, or null for a black background
   */
  public static int[] render(IntImage predMask, IntImage gtMask, IntImage image) {
    int[] p = predMask.data();
    int[] g = gtMask.data();
    int[] out = new int[p.length];
    int maxGrey = image == null ? 1 : Math.max(1, image.max());
    for (int i = 0; i < p.length; i++) {
      int colour = p[i] != 0 ? (g[i] != 0 ? TRUE_POSITIVE : FALSE_POSITIVE)
          : (g[i] != 0 ? FALSE_NEGATIVE : -1);
      int grey = image == null ? 0 : image.data()[i] * 255 / maxGrey;
      out[i] = colour < 0 ? grey * 0x010101 : blend(colour, grey);
    }
    return out;
  }

  /** 65% colour over 35% grey, so texture stays visible under the labels. */
  private static int blend(int colour, int grey) {
    int r = ((colour >> 16) & 0xff) * 65 / 100 + grey * 35 / 100;
    int g = ((colour >> 8) & 0xff) * 65 / 100 + grey * 35 / 100;
    int b = (colour & 0xff) * 65 / 100 + grey * 35 / 100;
    return (r << 16) | (g << 8) | b;
  }
}

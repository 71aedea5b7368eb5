package org.promptdas.core.geometry;

/**
 * A rectangle of a slice: top-left corner (x, y) and size (width x height). The rectangle may
 * reach past the slice edge only when the slice is smaller than the crop and padding was asked for.
 */
public record Window(int x, int y, int width, int height) {
  public Window {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("window size must be positive: " + width + "x" + height);
    }
  }
}

package org.promptdas.core.geometry;

import java.util.ArrayList;
import java.util.List;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * Regular grids of square crops over a slice, used both for tiling training data and for
 * sliding-window inference. Along each axis, windows start at 0, step by {@code stride}, and the
 * last window is clamped to the edge (it starts at {@code length - crop}), so every pixel is
 * covered and no window leaves the slice. The paper uses crop 384 with stride 128 for inference;
 * a 4096 axis then has 30 positions (0, 128, ..., 3584, 3712).
 *
 * <p>An axis shorter than the crop is either refused with a clear error or, with
 * {@link SmallSlicePolicy#PAD}, covered by one window at 0 that reaches past the edge (the crop is
 * padded by {@link Crops}).
 */
public final class TileGrid implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  /** What to do with a slice smaller than a crop. */
  public enum SmallSlicePolicy {
    /** Refuse with an error naming the slice. */
    REFUSE,
    /** One window at 0 that extends past the edge; the crop is padded. */
    PAD
  }

  private final int crop;
  private final int stride;
  private final SmallSlicePolicy policy;

  public TileGrid(int crop, int stride, SmallSlicePolicy policy) {
    if (crop <= 0) {
      throw new IllegalArgumentException("crop must be positive, got " + crop);
    }
    if (stride <= 0 || stride > crop) {
      throw new IllegalArgumentException("stride must be in 1.." + crop + " (no gaps), got " + stride);
    }
    this.crop = crop;
    this.stride = stride;
    this.policy = policy;
  }

  public int crop() {
    return crop;
  }

  public int stride() {
    return stride;
  }

  /** Window start positions along an axis of {@code length} pixels. */
  public int[] positions(int length, String sliceName) {
    if (length < crop) {
      if (policy == SmallSlicePolicy.REFUSE) {
        throw new BadInput(sliceName + ": " + length + " px along an axis, smaller than the crop "
            + crop + " (set the small-slice policy to pad to accept it)");
      }
      return new int[] {0};
    }
    int n = (length - crop + stride - 1) / stride + 1;
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = Math.min(i * stride, length - crop);
    }
    return p;
  }

  /** All windows of a {@code width x height} slice, row by row. */
  public List<Window> windows(int width, int height, String sliceName) {
    int[] xs = positions(width, sliceName);
    int[] ys = positions(height, sliceName);
    List<Window> out = new ArrayList<>(xs.length * ys.length);
    for (int y : ys) {
      for (int x : xs) {
        out.add(new Window(x, y, crop, crop));
      }
    }
    return out;
  }

  /** Number of windows of a {@code width x height} slice. */
  public int count(int width, int height, String sliceName) {
    return positions(width, sliceName).length * positions(height, sliceName).length;
  }
}

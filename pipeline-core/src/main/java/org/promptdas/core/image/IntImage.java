package org.promptdas.core.image;

import java.util.Arrays;

/**
 * A 2-D single-channel image of int samples in row-major order (index = y * width + x): grey
 * levels (8 or 16 bit), binary masks (0/1) or instance ids (0 = background).
 *
 * <p>Instances are mutable for speed (the sample array is shared, not copied) and not thread-safe;
 * give each task its own. A 4096x4096 image takes 64 MiB.
 */
public final class IntImage {
  private final int width;
  private final int height;
  private final int[] data;

  public IntImage(int width, int height, int[] data) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
    }
    if (data.length != (long) width * height) {
      throw new IllegalArgumentException(
          "sample array has " + data.length + " entries, expected " + width + "x" + height);
    }
    this.width = width;
    this.height = height;
    this.data = data;
  }

  /** A zero image. */
  public IntImage(int width, int height) {
    this(width, height, new int[Math.multiplyExact(width, height)]);
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  public int size() {
    return data.length;
  }

  /** The backing array (not a copy). */
  public int[] data() {
    return data;
  }

  public int get(int x, int y) {
    return data[y * width + x];
  }

  public void set(int x, int y, int value) {
    data[y * width + x] = value;
  }

  /** The largest sample, 0 for an all-zero image. */
  public int max() {
    int m = 0;
    for (int v : data) {
      m = Math.max(m, v);
    }
    return m;
  }

  /** A new image that is 1 where this one is non-zero. */
  public IntImage binarize() {
    int[] out = new int[data.length];
    for (int i = 0; i < data.length; i++) {
      out[i] = data[i] != 0 ? 1 : 0;
    }
    return new IntImage(width, height, out);
  }

  /** Number of non-zero samples. */
  public long countNonZero() {
    long n = 0;
    for (int v : data) {
      if (v != 0) {
        n++;
      }
    }
    return n;
  }

  public boolean sameSize(IntImage other) {
    return width == other.width && height == other.height;
  }

  public IntImage copy() {
    return new IntImage(width, height, data.clone());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IntImage other
        && width == other.width
        && height == other.height
        && Arrays.equals(data, other.data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * width + height) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "IntImage[" + width + "x" + height + "]";
  }
}

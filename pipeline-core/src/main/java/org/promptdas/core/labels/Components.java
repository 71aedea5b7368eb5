package org.promptdas.core.labels;

import org.promptdas.core.image.IntImage;

/**
 * The result of a connected-component or instance labelling: a label image (0 = background,
 * 1..count = instances) and the area of every instance ({@code area(i)} for i in 1..count).
 */
public final class Components {
  private final IntImage labels;
  private final int count;
  private final long[] areas;

  Components(IntImage labels, int count, long[] areas) {
    this.labels = labels;
    this.count = count;
    this.areas = areas;
  }

  /** Builds the areas of an already compact label image (ids 0..count). */
  public static Components ofCompact(IntImage labels, int count) {
    long[] areas = new long[count + 1];
    for (int v : labels.data()) {
      areas[v]++;
    }
    return new Components(labels, count, areas);
  }

  public IntImage labels() {
    return labels;
  }

  /** Number of instances (background excluded). */
  public int count() {
    return count;
  }

  /** Pixels of instance {@code id} (1..count); {@code area(0)} is the background. */
  public long area(int id) {
    return areas[id];
  }

  /** Areas indexed by id, background at 0 (a copy). */
  public long[] areas() {
    return areas.clone();
  }
}

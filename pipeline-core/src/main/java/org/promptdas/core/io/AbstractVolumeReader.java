package org.promptdas.core.io;

import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;

/**
 * The bookkeeping every {@link VolumeReader} shares: name, depth, size, and the bounds check of
 * {@link #slice}; subclasses decode one in-range slice in {@link #read}.
 */
abstract class AbstractVolumeReader implements VolumeReader {
  private String name;
  private int depth;
  private int width;
  private int height;

  /** Called once by the subclass constructor when the header has been read. */
  protected final void describe(String name, int depth, int width, int height) {
    if (depth < 1) {
      throw new BadInput(name + ": holds no image");
    }
    if (width <= 0 || height <= 0) {
      throw new BadInput(name + ": header gives an empty image " + width + "x" + height);
    }
    this.name = name;
    this.depth = depth;
    this.width = width;
    this.height = height;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final int depth() {
    return depth;
  }

  @Override
  public final int width() {
    return width;
  }

  @Override
  public final int height() {
    return height;
  }

  @Override
  public final IntImage slice(int z) {
    if (z < 0 || z >= depth) {
      throw new BadInput(name + ": slice " + z + " requested, there are " + depth);
    }
    return read(z);
  }

  /** Decodes slice {@code z}, already checked to be in range. */
  protected abstract IntImage read(int z);
}

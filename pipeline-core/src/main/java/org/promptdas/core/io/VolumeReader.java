package org.promptdas.core.io;

import java.io.Closeable;
import org.promptdas.core.image.IntImage;

/**
 * A stack of equally sized 2-D slices read one at a time: a single PNG or TIFF (depth 1), a
 * multi-page TIFF, or a 3-D HDF5 dataset laid out (z, y, x). Only the requested slice is decoded,
 * so a volume larger than memory can be read slice by slice.
 *
 * <p>Not thread-safe: open one reader per thread or task. Errors are
 * {@link org.promptdas.core.PromptDasException.BadInput} naming the file and the reason.
 */
public interface VolumeReader extends Closeable {

  /** The file (and dataset) this reads, as used in error messages. */
  String name();

  int depth();

  int width();

  int height();

  /** Decodes slice {@code z} (0-based). */
  IntImage slice(int z);

  /** Closes without a checked exception. */
  @Override
  void close();
}

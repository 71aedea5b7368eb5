package org.promptdas.core.io;

import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.zarr.KeyValueStore;
import org.promptdas.core.io.zarr.OmeZarr;
import org.promptdas.core.io.zarr.ZarrArray;

/**
 * A Zarr v2 array laid out (z, y, x), or a level of an OME-Zarr image, as a stack of slices: each
 * slice decoded from the chunks it crosses. Integer samples are taken as they are, floats rounded
 * to the nearest integer; negative or non-finite values are refused (labels and images are
 * non-negative). Not thread-safe (one per task, as every reader).
 */
public final class ZarrVolumeReader extends AbstractVolumeReader {
  private final ZarrArray array;

  /**
   * @param dataset the OME-Zarr level's path ("1"), or null for an array or the first level
   */
  public ZarrVolumeReader(String name, KeyValueStore store, String dataset) {
    this.array = OmeZarr.array(store, dataset);
    long[] s = array.shape();
    if (s[1] > Integer.MAX_VALUE || s[2] > Integer.MAX_VALUE || s[0] > Integer.MAX_VALUE) {
      throw new BadInput(name + ": shape " + java.util.Arrays.toString(s) + " is too large for one slice");
    }
    describe(dataset == null ? name : name + "#" + dataset, (int) s[0], (int) s[2], (int) s[1]);
  }

  @Override
  protected IntImage read(int z) {
    double[] v = array.plane(z);
    IntImage img = new IntImage(width(), height());
    int[] d = img.data();
    for (int i = 0; i < v.length; i++) {
      double x = v[i];
      if (!(x >= 0) || x > Integer.MAX_VALUE) {
        throw new BadInput(name() + ": slice " + z + " holds the value " + x + " (images and labels must be "
            + "non-negative and finite)");
      }
      d[i] = (int) Math.round(x);
    }
    return img;
  }

  @Override
  public void close() {
    // the store holds no open resources
  }
}

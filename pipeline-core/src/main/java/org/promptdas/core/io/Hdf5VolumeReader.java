package org.promptdas.core.io;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.object.datatype.FixedPoint;
import java.lang.reflect.Array;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;

/**
 * A 2-D or 3-D integer HDF5 dataset (z, y, x) read one z-slice at a time through jhdf's
 * hyperslab reads, so a MitoEM label volume (500 x 4096 x 4096) never sits in memory whole.
 *
 * <p>The dataset is named explicitly, or found as the only dataset in the file. Unsigned 8/16/32-bit
 * and signed integer samples are supported (negative values are refused); floats are refused.
 */
final class Hdf5VolumeReader extends AbstractVolumeReader {
  private final String name;
  private final HdfFile file;
  private final Dataset dataset;
  private final boolean unsigned;

  Hdf5VolumeReader(String fileName, HdfFile file, String datasetPath) {
    this.file = file;
    try {
      this.dataset = datasetPath == null || datasetPath.isEmpty() ? onlyDataset(fileName, file)
          : dataset(fileName, file, datasetPath);
      this.name = fileName + "#" + dataset.getPath();
      Class<?> type = dataset.getJavaType();
      if (!(dataset.getDataType() instanceof FixedPoint fp)) {
        throw new BadInput(name + ": dataset type " + type.getSimpleName()
            + " is not an integer type; labels and slices must be integers");
      }
      this.unsigned = !fp.isSigned();
      int[] dims = dataset.getDimensions();
      if (dims.length != 2 && dims.length != 3) {
        throw new BadInput(name + ": dataset has " + dims.length
            + " dimensions; expected (y, x) or (z, y, x)");
      }
      int n = dims.length;
      describe(name, n == 2 ? 1 : dims[0], dims[n - 1], dims[n - 2]);
    } catch (RuntimeException e) {
      file.close();
      throw e instanceof BadInput b ? b : ImageReaders.corrupt(fileName, ImageFormat.HDF5, e);
    }
  }

  static Hdf5VolumeReader open(String name, SeekableByteChannel channel, String datasetPath) {
    HdfFile f;
    try {
      f = new HdfFile(channel, URI.create("channel:/" + name.replaceAll("[^A-Za-z0-9._/-]", "_")));
    } catch (RuntimeException e) {
      throw ImageReaders.corrupt(name, ImageFormat.HDF5, e);
    }
    return new Hdf5VolumeReader(name, f, datasetPath);
  }

  private static Dataset dataset(String fileName, HdfFile file, String path) {
    Node node;
    try {
      node = file.getByPath(path);
    } catch (RuntimeException e) {
      throw new BadInput(fileName + ": no dataset '" + path + "' (datasets: " + datasets(file) + ")");
    }
    if (!(node instanceof Dataset d)) {
      throw new BadInput(fileName + ": '" + path + "' is a group, not a dataset");
    }
    return d;
  }

  private static Dataset onlyDataset(String fileName, HdfFile file) {
    List<Dataset> all = new ArrayList<>();
    collect(file, all);
    if (all.size() != 1) {
      throw new BadInput(fileName + ": " + (all.isEmpty() ? "no datasets" : all.size()
          + " datasets " + datasets(file)) + "; name one as FILE#/dataset");
    }
    return all.get(0);
  }

  private static List<String> datasets(HdfFile file) {
    List<Dataset> all = new ArrayList<>();
    collect(file, all);
    return all.stream().map(Dataset::getPath).toList();
  }

  private static void collect(Group g, List<Dataset> out) {
    for (Node n : g) {
      if (n instanceof Dataset d) {
        out.add(d);
      } else if (n instanceof Group child) {
        collect(child, out);
      }
    }
  }

  @Override
  protected IntImage read(int z) {
    Object data;
    try {
      data = dataset.getDimensions().length == 2 ? dataset.getData()
          : dataset.getData(new long[] {z, 0, 0}, new int[] {1, height(), width()});
    } catch (RuntimeException e) {
      throw ImageReaders.corrupt(name, ImageFormat.HDF5, e);
    }
    int[] out = new int[width() * height()];
    int[] pos = {0};
    flatten(data, out, pos);
    if (pos[0] != out.length) {
      throw new BadInput(name + ": slice " + z + " decoded to " + pos[0] + " samples, expected "
          + out.length);
    }
    return new IntImage(width(), height(), out);
  }

  private void flatten(Object array, int[] out, int[] pos) {
    Class<?> c = array.getClass().getComponentType();
    if (c != null && c.isArray()) {
      int n = Array.getLength(array);
      for (int i = 0; i < n; i++) {
        flatten(Array.get(array, i), out, pos);
      }
      return;
    }
    if (array instanceof byte[] a) {
      for (byte v : a) {
        out[pos[0]++] = unsigned ? v & 0xff : checked(v);
      }
    } else if (array instanceof short[] a) {
      for (short v : a) {
        out[pos[0]++] = unsigned ? v & 0xffff : checked(v);
      }
    } else if (array instanceof int[] a) {
      for (int v : a) {
        out[pos[0]++] = checked(v);
      }
    } else if (array instanceof long[] a) {
      for (long v : a) {
        if (v < 0 || v > Integer.MAX_VALUE) {
          throw new BadInput(name + ": sample " + v + " does not fit a label id (0.." + Integer.MAX_VALUE + ")");
        }
        out[pos[0]++] = (int) v;
      }
    } else {
      throw new BadInput(name + ": unsupported sample type " + array.getClass().getSimpleName());
    }
  }

  private int checked(int v) {
    if (v < 0) {
      throw new BadInput(name + ": negative sample " + v + "; labels and slices must be non-negative");
    }
    return v;
  }

  @Override
  public void close() {
    file.close();
  }
}

package org.promptdas.jobs.inputs;

import java.util.Locale;

/**
 * A user's input path as typed: a folder, a file, or a dataset inside a container
 * ({@code FILE.h5#/dataset}, {@code VOLUME.zarr#/1} for an OME-Zarr level). The {@code #}
 * separates a dataset only after an HDF5 file name ({@code .h5}, {@code .hdf5}, {@code .hdf}) or a
 * Zarr folder's ({@code .zarr}); anywhere else it is part of the path, so folders and files may
 * hold a {@code #} in their names.
 *
 * @param path the file or folder
 * @param dataset the dataset inside the file, or null
 */
public record InputSpec(String path, String dataset) {

  /** Splits {@code spec} as above. */
  public static InputSpec parse(String spec) {
    int hash = spec.indexOf('#');
    while (hash >= 0) {
      String before = spec.substring(0, hash).toLowerCase(Locale.ROOT);
      if (before.endsWith(".h5") || before.endsWith(".hdf5") || before.endsWith(".hdf") || before.endsWith(".zarr")) {
        return new InputSpec(spec.substring(0, hash), spec.substring(hash + 1));
      }
      hash = spec.indexOf('#', hash + 1);
    }
    return new InputSpec(spec, null);
  }
}

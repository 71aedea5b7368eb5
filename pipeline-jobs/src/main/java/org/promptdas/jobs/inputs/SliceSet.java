package org.promptdas.jobs.inputs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.io.ImageFormat;
import org.promptdas.core.io.VolumeReader;
import org.promptdas.jobs.fs.HadoopFiles;

/**
 * Resolves a user's input path into its slices, reading headers only, on the driver, before any
 * Spark job: a folder of 2-D images (PNG/TIFF, sorted by name), a multi-page TIFF stack, an HDF5
 * volume ({@code FILE.h5} or {@code FILE.h5#/dataset}) or a Zarr array or OME-Zarr image
 * ({@code VOLUME.zarr}, {@code VOLUME.zarr#/1} for a level). Also pairs two such inputs (images with
 * labels, predictions with ground truth) and checks that paired slices have the same size.
 */
public final class SliceSet {
  private final String spec;
  private final boolean folder;
  private final List<SliceRef> slices;

  private SliceSet(String spec, boolean folder, List<SliceRef> slices) {
    this.spec = spec;
    this.folder = folder;
    this.slices = slices;
  }

  public List<SliceRef> slices() {
    return slices;
  }

  /** True when the input was a folder of 2-D files (paired by name, not by position). */
  public boolean isFolder() {
    return folder;
  }

  /**
   * A default volume name: the file's name without extension, or the folder's name, or its
   * parent's when the folder has a generic name ({@code vnc/img} and {@code vnc/lab} give
   * {@code vnc}, so images and their labels name the same volume).
   */
  public String defaultVolumeName() {
    Path p = new Path(null, null, InputSpec.parse(spec).path());
    String n = p.getName();
    if (!folder) {
      int dot = n.lastIndexOf('.');
      return dot > 0 ? n.substring(0, dot) : n;
    }
    boolean generic = java.util.Set.of("img", "imgs", "image", "images", "raw", "em", "slices", "lab",
            "label", "labels", "gt", "mask", "masks")
        .contains(n.toLowerCase(java.util.Locale.ROOT));
    return generic && p.getParent() != null && !p.getParent().getName().isEmpty()
        ? p.getParent().getName() : n;
  }

  /**
   * @param spec a folder, a stack file, or {@code FILE#dataset}
   * @param hdf5Dataset dataset when the spec names none ("" or null: the file's only dataset)
   */
  public static SliceSet resolve(HadoopFiles files, String spec, String hdf5Dataset) {
    InputSpec in = InputSpec.parse(spec);
    String dataset = in.dataset() != null ? in.dataset()
        : hdf5Dataset == null || hdf5Dataset.isEmpty() ? null : hdf5Dataset;
    Path path = files.qualify(in.path());
    if (!files.exists(path)) {
      throw new BadInput(path + ": no such file or folder");
    }
    List<SliceRef> out = new ArrayList<>();
    if (files.isDirectory(path) && !files.isZarr(path)) {
      List<Path> images = files.list(path, ImageFormat::hasImageExtension);
      if (images.isEmpty()) {
        throw new BadInput(path + ": folder holds no .png, .tif, .tiff or .h5 files");
      }
      for (Path f : images) {
        try (VolumeReader r = files.openVolume(f, null)) {
          if (r.depth() != 1) {
            throw new BadInput(f + ": holds " + r.depth() + " slices; a folder must hold 2-D "
                + "images (give a stack file itself as the input instead)");
          }
          out.add(new SliceRef(f.toString(), 0, null, f.getName(), r.width(), r.height()));
        }
      }
      return new SliceSet(spec, true, out);
    }
    try (VolumeReader r = files.openVolume(path, dataset)) {
      String stem = path.getName().replaceFirst("\\.[^.]*$", "");
      for (int z = 0; z < r.depth(); z++) {
        String name = r.depth() == 1 ? path.getName() : String.format("%s_z%04d", stem, z);
        out.add(new SliceRef(path.toString(), z, dataset, name, r.width(), r.height()));
      }
    }
    return new SliceSet(spec, false, out);
  }

  /** A pair of slices that belong together, {@code second} possibly null when skipping is allowed. */
  public record Pair(SliceRef first, SliceRef second) implements java.io.Serializable {}

  /**
   * Pairs the slices of two inputs: by file name without extension when both are folders, else by
   * position (same slice count required). Sizes must match.
   *
   * @param allowMissing keep a first slice without a partner (second = null) instead of failing;
   *     partners without a first slice are ignored either way when true
   */
  public static List<Pair> pair(SliceSet a, String aRole, SliceSet b, String bRole,
      boolean allowMissing) {
    List<Pair> pairs = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    if (a.folder && b.folder) {
      Map<String, SliceRef> byStem = new LinkedHashMap<>();
      for (SliceRef r : b.slices) {
        SliceRef dup = byStem.put(r.stem(), r);
        if (dup != null) {
          throw new BadInput(r.file() + " and " + dup.file() + ": two " + bRole
              + " files with the same name; pairing by name is ambiguous");
        }
      }
      for (SliceRef r : a.slices) {
        SliceRef partner = byStem.remove(r.stem());
        if (partner == null) {
          missing.add(r.name());
        }
        pairs.add(new Pair(r, partner));
      }
      if (!allowMissing && !byStem.isEmpty()) {
        missing.addAll(byStem.keySet().stream().map(s -> s + " (" + bRole + " only)").toList());
      }
    } else {
      if (a.slices.size() != b.slices.size() && !allowMissing) {
        throw new BadInput(a.spec + " has " + a.slices.size() + " slices but " + b.spec + " has "
            + b.slices.size() + "; " + aRole + " and " + bRole + " must match slice by slice");
      }
      for (int i = 0; i < a.slices.size(); i++) {
        pairs.add(new Pair(a.slices.get(i), i < b.slices.size() ? b.slices.get(i) : null));
        if (i >= b.slices.size()) {
          missing.add(a.slices.get(i).name());
        }
      }
    }
    if (!missing.isEmpty() && !allowMissing) {
      throw new BadInput(missing.size() + " " + aRole + " slice(s) without a " + bRole
          + " partner: " + abbreviate(missing) + " (pairs are matched by file name; set "
          + "skip-missing to score only complete pairs)");
    }
    for (Pair p : pairs) {
      if (p.second() != null && (p.first().width() != p.second().width()
          || p.first().height() != p.second().height())) {
        throw new BadInput(p.first().file() + " is " + p.first().width() + "x" + p.first().height()
            + " but its " + bRole + " " + p.second().file() + " is " + p.second().width() + "x"
            + p.second().height());
      }
    }
    return pairs;
  }

  /** Decodes one slice (inside a task: reads the header and that slice only). */
  public static org.promptdas.core.image.IntImage read(HadoopFiles files, SliceRef ref) {
    try (VolumeReader r = files.openVolume(new Path(ref.file()), ref.dataset())) {
      if (r.width() != ref.width() || r.height() != ref.height()) {
        throw new BadInput(ref.file() + ": is now " + r.width() + "x" + r.height() + ", was "
            + ref.width() + "x" + ref.height() + " when the job started (file changed?)");
      }
      return r.slice(ref.page());
    }
  }

  private static String abbreviate(List<String> names) {
    return names.size() <= 5 ? String.join(", ", names)
        : String.join(", ", names.subList(0, 5)) + ", ... (" + (names.size() - 5) + " more)";
  }
}

package org.promptdas.jobs.inputs;

import java.io.Serializable;

/**
 * Where one 2-D slice lives: a file (any Hadoop-FS URI), the page or z index inside it, the HDF5
 * dataset when it is one, a display name (the file name for single images, {@code stem_zNNNN} for
 * pages of a stack), and its size as read from the header.
 */
public record SliceRef(String file, int page, String dataset, String name, int width, int height)
    implements Serializable {

  /** The name without its extension, used to pair images with labels and predictions. */
  public String stem() {
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}

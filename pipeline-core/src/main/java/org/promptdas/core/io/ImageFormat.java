package org.promptdas.core.io;

import java.util.Locale;

/** The container formats the readers understand, recognised by their leading bytes, not by name. */
public enum ImageFormat {
  PNG,
  TIFF,
  HDF5;

  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final byte[] HDF5_MAGIC = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

  /** The format of a file whose first bytes are {@code head}, or null if none matches. */
  public static ImageFormat sniff(byte[] head) {
    if (startsWith(head, PNG_MAGIC)) {
      return PNG;
    }
    if (startsWith(head, HDF5_MAGIC)) {
      return HDF5;
    }
    if (head.length >= 4
        && ((head[0] == 'I' && head[1] == 'I' && head[2] == 42 && head[3] == 0)
            || (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && head[3] == 42))) {
      return TIFF;
    }
    return null;
  }

  /** True for names this project treats as slice images when listing a folder. */
  public static boolean hasImageExtension(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".png") || n.endsWith(".tif") || n.endsWith(".tiff")
        || n.endsWith(".h5") || n.endsWith(".hdf5") || n.endsWith(".hdf");
  }

  private static boolean startsWith(byte[] head, byte[] magic) {
    if (head.length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if (head[i] != magic[i]) {
        return false;
      }
    }
    return true;
  }
}

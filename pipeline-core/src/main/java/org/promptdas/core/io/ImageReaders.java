package org.promptdas.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;

/**
 * Entry point for reading EM slices and labels: PNG (8/16-bit grey, 1-bit, palette), TIFF (8/16-bit,
 * multi-page stacks) and HDF5 volumes. The format is recognised from the file's leading bytes.
 *
 * <p>Every failure is a {@link BadInput} whose message starts with the file name and says why
 * (missing, empty, truncated or corrupt, unsupported format or sample type); a reader never returns
 * an all-zero image for a file it could not decode.
 *
 * <pre>{@code
 * try (VolumeReader stack = ImageReaders.open(Path.of("labels.h5"), "main")) {
 *   IntImage z0 = stack.slice(0);
 * }
 * IntImage img = ImageReaders.readSingle("slice.png", bytes);
 * }</pre>
 */
public final class ImageReaders {
  private ImageReaders() {}

  /**
   * Opens a file on the local file system. HDF5 files are read in place (slice by slice);
   * {@code hdf5Dataset} names the dataset (null: the file's only dataset) and is ignored otherwise.
   */
  public static VolumeReader open(Path path, String hdf5Dataset) {
    ImageFormat format = sniff(path);
    if (format == ImageFormat.HDF5) {
      return Hdf5VolumeReader.open(path, hdf5Dataset);
    }
    return new ImageIoVolumeReader(path.toString(), format, readAll(path));
  }

  /** Opens an image held in memory (as fetched from a Hadoop file system). */
  public static VolumeReader open(String name, byte[] bytes, String hdf5Dataset) {
    ImageFormat format = sniff(name, bytes);
    if (format == ImageFormat.HDF5) {
      return Hdf5VolumeReader.open(name, bytes, hdf5Dataset);
    }
    return new ImageIoVolumeReader(name, format, bytes);
  }

  /** Reads a file that must hold exactly one 2-D image (a PNG, or a single-page TIFF). */
  public static IntImage readSingle(String name, byte[] bytes) {
    try (VolumeReader r = open(name, bytes, null)) {
      if (r.depth() != 1) {
        throw new BadInput(name + ": holds " + r.depth() + " slices where one image was expected");
      }
      return r.slice(0);
    }
  }

  /** Reads a local file that must hold exactly one 2-D image. */
  public static IntImage readSingle(Path path) {
    return readSingle(path.toString(), readAll(path));
  }

  /** The format of {@code bytes}, or a {@link BadInput} naming the file when it is empty or unknown. */
  public static ImageFormat sniff(String name, byte[] bytes) {
    if (bytes.length == 0) {
      throw new BadInput(name + ": empty file (0 bytes)");
    }
    ImageFormat f = ImageFormat.sniff(bytes);
    if (f == null) {
      byte[] head = Arrays.copyOf(bytes, Math.min(8, bytes.length));
      throw new BadInput(name + ": unsupported format (not PNG, TIFF or HDF5; first bytes "
          + hex(head) + ")");
    }
    return f;
  }

  private static ImageFormat sniff(Path path) {
    byte[] head = new byte[8];
    int n;
    try (var in = Files.newInputStream(path)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (NoSuchFileException e) {
      throw new BadInput(path + ": no such file");
    } catch (IOException e) {
      throw new BadInput(path + ": cannot be read (" + e.getMessage() + ")", e);
    }
    return sniff(path.toString(), Arrays.copyOf(head, n));
  }

  private static byte[] readAll(Path path) {
    try {
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new BadInput(path + ": no such file");
    } catch (IOException e) {
      throw new BadInput(path + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  /** Wraps a decoder failure into a message that says what happened, not where in the library. */
  static BadInput corrupt(String name, ImageFormat format, Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String why = root instanceof java.io.EOFException || "EOF".equals(root.getMessage())
        ? "truncated (the file ends before the image data does)"
        : "corrupt or unreadable (" + describe(e) + (root != e ? ": " + describe(root) : "") + ")";
    return new BadInput(name + ": " + format + " file is " + why, e);
  }

  private static String describe(Throwable t) {
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x & 0xff));
    }
    return s.toString();
  }
}

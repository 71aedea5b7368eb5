package org.promptdas.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
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
   * {@code hdf5Dataset} names the dataset (null or empty: the file's only dataset) and is ignored
   * for other formats.
   */
  public static VolumeReader open(Path path, String hdf5Dataset) {
    SeekableByteChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new BadInput(path + ": no such file");
    } catch (IOException e) {
      throw new BadInput(path + ": cannot be read (" + e.getMessage() + ")", e);
    }
    return open(path.toString(), ch, hdf5Dataset);
  }

  /** Opens an image held in memory. */
  public static VolumeReader open(String name, byte[] bytes, String hdf5Dataset) {
    return open(name, new ByteArrayChannel(bytes), hdf5Dataset);
  }

  /**
   * {@link #open(String, SeekableByteChannel, String)} refusing a slice whose header claims more
   * than {@code maxPixels} pixels before anything is decoded (a forged or mistaken header would
   * otherwise exhaust the heap).
   */
  public static VolumeReader open(String name, SeekableByteChannel channel, String hdf5Dataset,
      long maxPixels) {
    return limited(open(name, channel, hdf5Dataset), maxPixels);
  }

  /** {@code r} if its slices have at most {@code maxPixels} pixels; else it is closed and refused. */
  public static VolumeReader limited(VolumeReader r, long maxPixels) {
    long pixels = (long) r.width() * r.height();
    if (pixels > maxPixels) {
      r.close();
      throw new BadInput(String.format(java.util.Locale.ROOT, "%s: its header claims %dx%d pixels per slice "
          + "(%.0f megapixels), above the limit of %.0f megapixels (limits.max-slice-megapixels; "
          + "0 takes a 32nd of the heap in bytes)", r.name(), r.width(), r.height(), pixels / 1e6, maxPixels / 1e6));
    }
    return r;
  }

  /** The slice-size limit that fits this JVM: one pixel per 32 bytes of its maximum heap. */
  public static long automaticPixelLimit() {
    return Runtime.getRuntime().maxMemory() / 32;
  }

  /**
   * Opens any seekable source (a local file, a Hadoop stream, bytes). The reader owns the channel
   * and closes it; only headers are read until a slice is asked for.
   */
  public static VolumeReader open(String name, SeekableByteChannel channel, String hdf5Dataset) {
    try {
      ImageFormat format = sniff(name, head(name, channel));
      return format == ImageFormat.HDF5 ? Hdf5VolumeReader.open(name, channel, hdf5Dataset)
          : new ImageIoVolumeReader(name, format, channel);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  /** Reads a file that must hold exactly one 2-D image (a PNG, or a single-page TIFF). */
  public static IntImage readSingle(String name, byte[] bytes) {
    return single(open(name, bytes, null));
  }

  /** Reads a local file that must hold exactly one 2-D image. */
  public static IntImage readSingle(Path path) {
    return single(open(path, null));
  }

  /** Reads the only slice of {@code reader} and closes it. */
  public static IntImage single(VolumeReader reader) {
    try (VolumeReader r = reader) {
      if (r.depth() != 1) {
        throw new BadInput(r.name() + ": holds " + r.depth() + " slices where one image was expected");
      }
      return r.slice(0);
    }
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

  private static byte[] head(String name, SeekableByteChannel ch) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(8);
      while (buf.hasRemaining() && ch.read(buf) > 0) {
        // fill up to 8 bytes or the end of the file
      }
      ch.position(0);
      return Arrays.copyOf(buf.array(), buf.position());
    } catch (IOException e) {
      throw new BadInput(name + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  private static void closeQuietly(SeekableByteChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing was written
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

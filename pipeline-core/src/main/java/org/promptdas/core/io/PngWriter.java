package org.promptdas.core.io;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;
import org.promptdas.core.image.IntImage;

/**
 * Encodes greyscale (8- or 16-bit) and RGB PNGs to bytes; the caller decides where they go (a local
 * file or a Hadoop file system). Stateless and thread-safe.
 */
public final class PngWriter {
  private PngWriter() {}

  /** 8-bit grey; every sample must be in 0..255. */
  public static byte[] grey8(IntImage img) {
    return grey(img, BufferedImage.TYPE_BYTE_GRAY, 255);
  }

  /** 16-bit grey; every sample must be in 0..65535 (instance ids of up to 65535 instances). */
  public static byte[] grey16(IntImage img) {
    return grey(img, BufferedImage.TYPE_USHORT_GRAY, 65535);
  }

  /** A mask (zero / non-zero) as an 8-bit PNG of 0 and 255, as people and other tools expect. */
  public static byte[] mask(IntImage mask) {
    int[] d = new int[mask.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = mask.data()[i] != 0 ? 255 : 0;
    }
    return grey8(new IntImage(mask.width(), mask.height(), d));
  }

  /** The smallest grey PNG that holds every sample: 8-bit up to 255, else 16-bit. */
  public static byte[] greyAuto(IntImage img) {
    return img.max() <= 255 ? grey8(img) : grey16(img);
  }

  /** RGB from packed 0xRRGGBB ints, row-major. */
  public static byte[] rgb(int width, int height, int[] packedRgb) {
    BufferedImage bi = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    bi.setRGB(0, 0, width, height, packedRgb, 0, width);
    return encode(bi);
  }

  private static byte[] grey(IntImage img, int type, int maxValue) {
    int[] d = img.data();
    for (int i = 0; i < d.length; i++) {
      if (d[i] < 0 || d[i] > maxValue) {
        throw new IllegalArgumentException("sample " + d[i] + " at index " + i
            + " does not fit a " + (maxValue == 255 ? 8 : 16) + "-bit PNG");
      }
    }
    BufferedImage bi = new BufferedImage(img.width(), img.height(), type);
    WritableRaster r = bi.getRaster();
    r.setSamples(0, 0, img.width(), img.height(), 0, d);
    return encode(bi);
  }

  private static byte[] encode(BufferedImage bi) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(bi, "png", out)) {
        throw new IllegalStateException("no PNG encoder in this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}

package org.promptdas.core.io;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;

/**
 * PNG and (multi-page) TIFF through the JDK's ImageIO plugins, over a seekable channel (only the
 * header and the requested page are read).
 *
 * <p>Sample policy: 8- and 16-bit grey give their levels; 1-bit and palette images give the grey
 * level of the palette entry when the palette is grey, else the palette index (label images with
 * colour palettes carry ids as indices); RGB(A) images are accepted only when every pixel is grey
 * (R = G = B). Floating-point and signed samples are refused.
 */
final class ImageIoVolumeReader extends AbstractVolumeReader {
  private final String name;
  private final ImageFormat format;
  private final ImageReader reader;
  private final ImageInputStream stream;

  ImageIoVolumeReader(String name, ImageFormat format, SeekableByteChannel channel) {
    this.name = name;
    this.format = format;
    ImageReader r = null;
    ImageInputStream s = new ChannelImageInputStream(channel);
    try {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(s);
      if (!readers.hasNext()) {
        throw new BadInput(name + ": no " + format + " decoder accepts this file (corrupt header?)");
      }
      r = readers.next();
      r.setInput(s, false, true);
      int depth = format == ImageFormat.TIFF ? r.getNumImages(true) : 1;
      describe(name, depth, depth < 1 ? 1 : r.getWidth(0), depth < 1 ? 1 : r.getHeight(0));
    } catch (IOException | RuntimeException e) {
      closeQuietly(r, s);
      throw e instanceof BadInput b ? b : ImageReaders.corrupt(name, format, e);
    }
    this.reader = r;
    this.stream = s;
  }

  @Override
  protected IntImage read(int z) {
    BufferedImage img;
    try {
      img = reader.read(z);
    } catch (IOException | RuntimeException e) {
      throw ImageReaders.corrupt(name, format, e);
    }
    if (img.getWidth() != width() || img.getHeight() != height()) {
      throw new BadInput(name + ": page " + z + " is " + img.getWidth() + "x" + img.getHeight()
          + ", the first page is " + width() + "x" + height() + " (pages of a stack must match)");
    }
    return toIntImage(img);
  }

  private IntImage toIntImage(BufferedImage img) {
    Raster raster = img.getRaster();
    int w = img.getWidth();
    int h = img.getHeight();
    int dataType = raster.getDataBuffer().getDataType();
    if (dataType == DataBuffer.TYPE_FLOAT || dataType == DataBuffer.TYPE_DOUBLE) {
      throw new BadInput(name + ": floating-point samples are not supported; convert to 8- or 16-bit");
    }
    if (dataType == DataBuffer.TYPE_SHORT || dataType == DataBuffer.TYPE_INT) {
      throw new BadInput(name + ": signed or 32-bit samples are not supported; convert to 8- or 16-bit");
    }
    ColorModel cm = img.getColorModel();
    int bands = raster.getNumBands();
    int[] out = new int[w * h];
    if (cm instanceof IndexColorModel icm) {
      raster.getSamples(0, 0, w, h, 0, out);
      int[] lut = greyPalette(icm);
      if (lut != null) {
        for (int i = 0; i < out.length; i++) {
          out[i] = lut[out[i]];
        }
      }
    } else if (bands == 1 || bands == 2) {
      raster.getSamples(0, 0, w, h, 0, out); // band 1 of a 2-band image is alpha
    } else {
      int[] g = new int[w * h];
      int[] b = new int[w * h];
      raster.getSamples(0, 0, w, h, 0, out);
      raster.getSamples(0, 0, w, h, 1, g);
      raster.getSamples(0, 0, w, h, 2, b);
      for (int i = 0; i < out.length; i++) {
        if (out[i] != g[i] || out[i] != b[i]) {
          throw new BadInput(name + ": colour image (pixel " + (i % w) + "," + (i / w)
              + " is not grey); EM slices and labels must be single-channel");
        }
      }
    }
    return new IntImage(w, h, out);
  }

  /** Palette index -> grey level when every entry is grey, else null (keep indices). */
  private static int[] greyPalette(IndexColorModel icm) {
    int n = icm.getMapSize();
    int[] lut = new int[n];
    for (int i = 0; i < n; i++) {
      int r = icm.getRed(i);
      if (r != icm.getGreen(i) || r != icm.getBlue(i)) {
        return null;
      }
      lut[i] = r;
    }
    return lut;
  }

  @Override
  public void close() {
    closeQuietly(reader, stream);
  }

  private static void closeQuietly(ImageReader r, ImageInputStream s) {
    if (r != null) {
      r.dispose();
    }
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing an in-memory stream cannot lose data
      }
    }
  }
}

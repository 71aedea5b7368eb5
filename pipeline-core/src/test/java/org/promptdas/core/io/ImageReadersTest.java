package org.promptdas.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;

class ImageReadersTest {
  @TempDir Path tmp;

  private static IntImage random(int w, int h, int max, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] d = new int[w * h];
    for (int i = 0; i < d.length; i++) {
      d[i] = r.nextInt(max + 1);
    }
    return new IntImage(w, h, d);
  }

  @Test
  void png8And16RoundTrip() {
    IntImage a = random(37, 23, 255, 1);
    assertEquals(a, ImageReaders.readSingle("a.png", PngWriter.grey8(a)));
    IntImage b = random(37, 23, 65535, 2);
    assertEquals(b, ImageReaders.readSingle("b.png", PngWriter.grey16(b)));
    assertEquals(b, ImageReaders.readSingle("b.png", PngWriter.greyAuto(b)));
  }

  @Test
  void oneBitAndPalettePng() throws Exception {
    BufferedImage bin = new BufferedImage(9, 5, BufferedImage.TYPE_BYTE_BINARY);
    bin.getRaster().setSample(3, 2, 0, 1);
    IntImage m = ImageReaders.readSingle("bin.png", encode(bin, "png"));
    assertEquals(255, m.get(3, 2));
    assertEquals(1, m.countNonZero());
    byte[] r = {0, (byte) 200, 10};
    byte[] g = {0, 10, (byte) 200};
    byte[] b = {0, 10, 10};
    BufferedImage pal = new BufferedImage(6, 4, BufferedImage.TYPE_BYTE_INDEXED,
        new IndexColorModel(8, 3, r, g, b));
    pal.getRaster().setSample(1, 1, 0, 1);
    pal.getRaster().setSample(4, 2, 0, 2);
    IntImage ids = ImageReaders.readSingle("pal.png", encode(pal, "png"));
    assertEquals(1, ids.get(1, 1)); // colour palette: indices are the ids
    assertEquals(2, ids.get(4, 2));
  }

  @Test
  void tiff8And16AndMultiPageStack() throws Exception {
    IntImage a = random(31, 17, 255, 3);
    assertEquals(a, ImageReaders.readSingle("a.tif", encode(grey(a, BufferedImage.TYPE_BYTE_GRAY), "tiff")));
    IntImage[] pages = {random(20, 10, 65535, 4), random(20, 10, 65535, 5), random(20, 10, 65535, 6)};
    Path stack = tmp.resolve("stack.tif");
    writeStack(stack, pages);
    try (VolumeReader r = ImageReaders.open(stack, null)) {
      assertEquals(3, r.depth());
      assertEquals(20, r.width());
      assertEquals(10, r.height());
      assertEquals(pages[2], r.slice(2));
      assertEquals(pages[0], r.slice(0));
    }
  }

  @Test
  void hdf5VolumeReadsSliceBySlice() throws Exception {
    Path h5 = tmp.resolve("labels.h5");
    int[][][] vol = new int[4][6][5];
    for (int z = 0; z < 4; z++) {
      for (int y = 0; y < 6; y++) {
        for (int x = 0; x < 5; x++) {
          vol[z][y][x] = 1000 * z + 10 * y + x;
        }
      }
    }
    try (WritableHdfFile f = HdfFile.write(h5)) {
      f.putDataset("main", vol);
      f.putDataset("other", new int[] {1, 2});
    }
    try (VolumeReader r = ImageReaders.open(h5, "main")) {
      assertEquals(4, r.depth());
      IntImage s = r.slice(3);
      assertEquals(3000 + 10 * 5 + 4, s.get(4, 5));
      assertEquals(3000, s.get(0, 0));
    }
    BadInput e = assertThrows(BadInput.class, () -> ImageReaders.open(h5, null));
    assertTrue(e.getMessage().contains("2 datasets"), e.getMessage());
    e = assertThrows(BadInput.class, () -> ImageReaders.open(h5, "nope"));
    assertTrue(e.getMessage().contains("no dataset 'nope'"), e.getMessage());
    try (VolumeReader r = ImageReaders.open("labels.h5", Files.readAllBytes(h5), "/main")) {
      assertEquals(1000 + 11, r.slice(1).get(1, 1));
    }
  }

  @Test
  void badFilesGiveErrorsThatNameTheFileAndTheReason() throws Exception {
    byte[] png = PngWriter.grey8(random(64, 64, 255, 7));
    assertBad("empty.png", new byte[0], "empty file");
    assertBad("notes.png", "hello world".getBytes(), "unsupported format");
    assertBad("cut.png", Arrays.copyOf(png, png.length / 2), "cut.png: PNG file is");
    byte[] garbled = png.clone();
    for (int i = 60; i < garbled.length - 20; i++) {
      garbled[i] ^= 0x5a;
    }
    assertBad("garbled.png", garbled, "garbled.png: PNG file is");
    byte[] tif = encode(grey(random(64, 64, 255, 8), BufferedImage.TYPE_BYTE_GRAY), "tiff");
    assertBad("cut.tif", Arrays.copyOf(tif, tif.length / 2), "cut.tif: TIFF file is");
    BadInput missing = assertThrows(BadInput.class, () -> ImageReaders.readSingle(tmp.resolve("none.png")));
    assertTrue(missing.getMessage().endsWith("no such file"), missing.getMessage());
    BufferedImage rgb = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
    rgb.setRGB(1, 1, 0xff0000);
    assertBad("colour.png", encode(rgb, "png"), "colour image");
  }

  private static void assertBad(String name, byte[] bytes, String expected) {
    BadInput e = assertThrows(BadInput.class, () -> ImageReaders.readSingle(name, bytes));
    assertTrue(e.getMessage().startsWith(name), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  private static BufferedImage grey(IntImage img, int type) {
    BufferedImage bi = new BufferedImage(img.width(), img.height(), type);
    bi.getRaster().setSamples(0, 0, img.width(), img.height(), 0, img.data());
    return bi;
  }

  private static byte[] encode(BufferedImage bi, String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(bi, format, out));
    return out.toByteArray();
  }

  private static void writeStack(Path file, IntImage[] pages) throws Exception {
    ImageWriter w = ImageIO.getImageWritersByFormatName("tiff").next();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
      w.setOutput(out);
      w.prepareWriteSequence(null);
      for (IntImage p : pages) {
        w.writeToSequence(new IIOImage(grey(p, BufferedImage.TYPE_USHORT_GRAY), null, null), null);
      }
      w.endWriteSequence();
    }
    w.dispose();
  }

  @Test
  void rgbWriterKeepsColours() {
    int[] px = {0xff0000, 0x00ff00, 0x0000ff, 0x123456};
    byte[] png = PngWriter.rgb(2, 2, px);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
    assertThrows(IllegalArgumentException.class, () -> PngWriter.grey8(new IntImage(1, 1, new int[] {256})));
  }
}

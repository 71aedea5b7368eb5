package org.promptdas.core.io.zarr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every compressor infer can write reads back to the bytes written, through the codec alone and
 * through an OME-Zarr image (zarr-python reads the same files: scripts/zarr-crosscheck.sh).
 */
class CodecTest {
  @TempDir
  Path dir;

  /** Bytes like an 8-bit probability map: runs of equal values with noise between them. */
  static byte[] sample(int n, long seed) {
    Random r = new Random(seed);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i % 97 < 60 ? 0 : r.nextInt(256));
    }
    return b;
  }

  static java.util.List<String> names() {
    return Codec.NAMES;
  }

  @ParameterizedTest
  @MethodSource("names")
  void everyWritingCompressorRoundTripsAnOmeZarrImage(String name) {
    LocalStore store = new LocalStore(dir.resolve(name + ".zarr"));
    OmeZarr.createImage(store, name, 3, 37, 50, 16, Codec.named(name, 1));
    byte[][] planes = new byte[3][];
    for (int z = 0; z < 3; z++) {
      planes[z] = sample(37 * 50, z);
      OmeZarr.array(store, null).writePlane(z, planes[z]);
    }
    ZarrArray back = OmeZarr.array(new LocalStore(dir.resolve(name + ".zarr")), null);
    for (int z = 0; z < 3; z++) {
      double[] v = back.plane(z);
      for (int i = 0; i < v.length; i++) {
        assertEquals(planes[z][i] & 0xff, v[i], name + " plane " + z + " pixel " + i);
      }
    }
  }

  @Test
  void bloscRoundTripsEveryInnerCodecShuffleAndTypeSize() {
    byte[] raw = sample(4096, 9);
    for (String cname : new String[] {"lz4", "zstd", "zlib"}) {
      for (int shuffle = 0; shuffle <= 2; shuffle++) {
        for (int ts : new int[] {1, 2, 4, 8}) {
          Blosc b = new Blosc(cname, 5, shuffle, ts);
          byte[] stored = b.encode(raw);
          assertTrue(stored.length < raw.length, cname + " shuffle " + shuffle + " typesize " + ts + " compresses");
          assertArrayEquals(raw, b.decode(stored, raw.length), cname + " shuffle " + shuffle + " typesize " + ts);
        }
      }
    }
  }

  @Test
  void bloscRoundTripsChunksShorterThanOneElement() {
    byte[] raw = {7, 9, 11};
    for (int shuffle = 0; shuffle <= 2; shuffle++) {
      Blosc b = new Blosc("lz4", 5, shuffle, 4);
      assertArrayEquals(raw, b.decode(b.encode(raw), raw.length), "shuffle " + shuffle);
    }
  }

  @Test
  void bitShuffleIsUndoneByBitUnshuffle() {
    byte[] raw = sample(8 * 4 * 5, 3);
    byte[] shuffled = new byte[raw.length];
    Blosc.bitshuffle(raw, raw.length, 4, shuffled);
    byte[] back = new byte[raw.length];
    Blosc.bitunshuffle(shuffled, raw.length, 4, back, 0);
    assertArrayEquals(raw, back);
    // bit 0 of byte 0 of the first 8 elements is the first byte of the first row
    int want = 0;
    for (int i = 0; i < 8; i++) {
      want |= (raw[i * 4] & 1) << i;
    }
    assertEquals(want, shuffled[0] & 0xff);
  }

  @Test
  void unknownNamesAreRefusedListingTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Codec.named("lzma", 1));
    assertTrue(e.getMessage().contains("blosc-lz4"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Blosc("snappy", 5, 1, 1).encode(new byte[8]));
  }
}

package org.promptdas.core.io.zarr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * Arrays that zarr-python 2.13 wrote (scripts/zarr-fixtures.py), in every codec, shuffle and byte
 * order the reader supports, read plane by plane to exactly the values it wrote.
 */
class ZarrFixturesTest {
  static final Path DIR = Path.of("src/test/resources/zarr");

  /** The expected values of a fixture: its .raw file (little-endian, C order) in its dtype. */
  static double[] expected(String name, ElementType t, int n) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(DIR.resolve(name + ".raw"))).order(ByteOrder.LITTLE_ENDIAN);
    ElementType le = new ElementType(t.kind(), t.bytes(), ByteOrder.LITTLE_ENDIAN);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = le.get(b, i);
    }
    return v;
  }

  @ParameterizedTest
  @ValueSource(strings = {"u1-blosc-lz4-shuffle", "u1-blosc-zstd-bitshuffle", "u1-blosc-zlib-noshuffle",
      "u2-blosc-lz4-shuffle", "u2-blosc-zstd-bitshuffle", "u2-blosc-lz4-memcpy", "f4-blosc-lz4-shuffle",
      "u2-zstd", "u2-gzip", "u2-zlib", "u2-raw", "u2-big-endian-blosc-lz4", "i2-big-endian-raw",
      "f4-big-endian-gzip", "u4-blosc-lz4-shuffle", "u1-fill"})
  void everyPlaneReadsAsZarrPythonWroteIt(String name) throws Exception {
    ZarrArray a = OmeZarr.array(new LocalStore(DIR.resolve(name + ".zarr")), null);
    long[] s = a.shape();
    int plane = (int) (s[1] * s[2]);
    double[] all = expected(name, a.type(), (int) s[0] * plane);
    for (int z = 0; z < s[0]; z++) {
      double[] want = java.util.Arrays.copyOfRange(all, z * plane, (z + 1) * plane);
      assertArrayEquals(want, a.plane(z), 0, name + " plane " + z);
    }
  }

  @Test
  void omeZarrImagesGiveTheirFirstLevelOrTheNamedOne() throws Exception {
    LocalStore ome = new LocalStore(DIR.resolve("ome.zarr"));
    ZarrArray full = OmeZarr.array(ome, null);
    ZarrArray half = OmeZarr.array(ome, "/1");
    assertEquals(List.of(2L, 20L, 24L), List.of(full.shape()[0], full.shape()[1], full.shape()[2]));
    assertEquals(List.of(2L, 10L, 12L), List.of(half.shape()[0], half.shape()[1], half.shape()[2]));
    assertArrayEquals(java.util.Arrays.copyOfRange(expected("ome-1", half.type(), 240), 120, 240), half.plane(1), 0);
    BadInput e = assertThrows(BadInput.class, () -> OmeZarr.array(ome, "7"));
    assertTrue(e.getMessage().contains("no level '7'"), e.getMessage());
  }

  @Test
  void fortranOrderIsRefusedNamingIt() {
    BadInput e = assertThrows(BadInput.class, () -> OmeZarr.array(new LocalStore(DIR.resolve("fortran.zarr")), null));
    assertTrue(e.getMessage().contains("order F"), e.getMessage());
  }
}

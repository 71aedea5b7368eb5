package org.promptdas.core.io.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * A 3-D Zarr v2 array laid out (z, y, x), read and written one z plane at a time through its chunk
 * grid, never whole: a plane costs the chunks it crosses. C order only; no filters; chunks that
 * were never written read as the fill value. Thread-safe for reading; {@link #writePlane} writes
 * only the chunks of its plane, so tasks writing different planes (chunk depth 1) do not collide.
 *
 * <pre>{@code
 * ZarrArray a = ZarrArray.open(new LocalStore(Path.of("vol.zarr")), "");
 * double[] plane = a.plane(12);   // shape()[1] x shape()[2], row-major
 * }</pre>
 */
public final class ZarrArray {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final KeyValueStore store;
  private final String path;
  private final long[] shape;
  private final int[] chunks;
  private final ElementType type;
  private final Codec codec;
  private final double fill;
  private final String separator;

  private ZarrArray(KeyValueStore store, String path, long[] shape, int[] chunks, ElementType type,
      Codec codec, double fill, String separator) {
    this.store = store;
    this.path = path;
    this.shape = shape;
    this.chunks = chunks;
    this.type = type;
    this.codec = codec;
    this.fill = fill;
    this.separator = separator;
  }

  /** The array at {@code path} ("" for the store's root) of {@code store}. */
  public static ZarrArray open(KeyValueStore store, String path) {
    String where = store.describe() + (path.isEmpty() ? "" : "/" + path);
    byte[] meta = store.get(key(path, ".zarray"));
    if (meta == null) {
      throw new BadInput(where + ": no .zarray (not a Zarr v2 array)");
    }
    JsonNode m;
    try {
      m = JSON.readTree(meta);
    } catch (IOException e) {
      throw new BadInput(where + "/.zarray: not valid JSON (" + e.getMessage() + ")");
    }
    if (m.path("zarr_format").asInt() != 2) {
      throw new BadInput(where + ": zarr_format " + m.path("zarr_format") + " (Zarr v2 is supported)");
    }
    if (!"C".equals(m.path("order").asText("C"))) {
      throw new BadInput(where + ": order " + m.path("order").asText() + " is not supported (C order only)");
    }
    JsonNode filters = m.path("filters");
    if (!filters.isMissingNode() && !filters.isNull() && filters.size() > 0) {
      throw new BadInput(where + ": filters " + filters + " are not supported");
    }
    long[] shape = longs(m.path("shape"));
    int[] chunks = Arrays.stream(longs(m.path("chunks"))).mapToInt(Math::toIntExact).toArray();
    if (shape.length != 3 || chunks.length != 3) {
      throw new BadInput(where + ": shape " + m.path("shape") + " is not laid out (z, y, x)");
    }
    ElementType type = ElementType.parse(m.path("dtype").asText(null), where);
    Codec codec = Codec.of(m.get("compressor"), type.bytes(), where);
    JsonNode f = m.path("fill_value");
    double fill = f.isNumber() ? f.asDouble() : f.isTextual() && f.asText().equals("NaN") ? Double.NaN : 0;
    return new ZarrArray(store, path, shape, chunks, type, codec, fill,
        m.path("dimension_separator").asText("."));
  }

  /**
   * Creates a uint8 array of {@code shape} with {@code chunks} and {@code codec} at {@code path}
   * (writes its {@code .zarray}; no chunk yet: every plane reads as 0 until written).
   */
  public static ZarrArray create(KeyValueStore store, String path, long[] shape, int[] chunks, Codec codec) {
    String meta = "{\n  \"zarr_format\": 2,\n  \"shape\": " + Arrays.toString(shape) + ",\n  \"chunks\": "
        + Arrays.toString(chunks) + ",\n  \"dtype\": \"|u1\",\n  \"compressor\": " + codec.json()
        + ",\n  \"fill_value\": 0,\n  \"order\": \"C\",\n  \"filters\": null,\n  \"dimension_separator\": \".\"\n}\n";
    store.put(key(path, ".zarray"), meta.getBytes(StandardCharsets.UTF_8));
    return open(store, path);
  }

  private static long[] longs(JsonNode a) {
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asLong();
    }
    return out;
  }

  private static String key(String path, String name) {
    return path.isEmpty() ? name : path + "/" + name;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int[] chunks() {
    return chunks.clone();
  }

  public ElementType type() {
    return type;
  }

  private String chunkKey(long cz, long cy, long cx) {
    return key(path, cz + separator + cy + separator + cx);
  }

  /** Plane {@code z} ([y][x] row-major, shape()[1] x shape()[2]) as doubles. */
  public double[] plane(int z) {
    if (z < 0 || z >= shape[0]) {
      throw new BadInput(store.describe() + ": plane " + z + " requested, the array has " + shape[0]);
    }
    int h = Math.toIntExact(shape[1]);
    int w = Math.toIntExact(shape[2]);
    double[] out = new double[h * w];
    int cz = z / chunks[0];
    int zz = z % chunks[0];
    int chunkElems = chunks[0] * chunks[1] * chunks[2];
    for (int cy = 0; cy * chunks[1] < h; cy++) {
      for (int cx = 0; cx * chunks[2] < w; cx++) {
        String k = chunkKey(cz, cy, cx);
        byte[] stored = store.get(k);
        int y0 = cy * chunks[1];
        int x0 = cx * chunks[2];
        int ye = Math.min(h, y0 + chunks[1]);
        int xe = Math.min(w, x0 + chunks[2]);
        if (stored == null) {
          for (int y = y0; y < ye; y++) {
            Arrays.fill(out, y * w + x0, y * w + xe, fill);
          }
          continue;
        }
        byte[] raw;
        try {
          raw = codec.decode(stored, chunkElems * type.bytes());
        } catch (RuntimeException e) {
          throw new BadInput(store.describe() + "/" + k + ": chunk cannot be decoded (" + e.getMessage() + ")", e);
        }
        ByteBuffer buf = type.view(raw);
        for (int y = y0; y < ye; y++) {
          int base = (zz * chunks[1] + (y - y0)) * chunks[2];
          for (int x = x0; x < xe; x++) {
            out[y * w + x] = type.get(buf, base + x - x0);
          }
        }
      }
    }
    return out;
  }

  /**
   * Writes plane {@code z} of a uint8 array whose chunks are one plane deep, chunk by chunk (each
   * chunk atomically); the edge chunks are padded with 0.
   */
  public void writePlane(int z, byte[] plane) {
    if (type.bytes() != 1 || chunks[0] != 1) {
      throw new IllegalStateException("writePlane needs a uint8 array with chunks one plane deep");
    }
    int h = Math.toIntExact(shape[1]);
    int w = Math.toIntExact(shape[2]);
    if (plane.length != h * w) {
      throw new IllegalArgumentException("a plane of " + plane.length + " values for " + h + "x" + w);
    }
    for (int cy = 0; cy * chunks[1] < h; cy++) {
      for (int cx = 0; cx * chunks[2] < w; cx++) {
        byte[] raw = new byte[chunks[1] * chunks[2]];
        int y0 = cy * chunks[1];
        int x0 = cx * chunks[2];
        for (int y = y0; y < Math.min(h, y0 + chunks[1]); y++) {
          System.arraycopy(plane, y * w + x0, raw, (y - y0) * chunks[2], Math.min(w, x0 + chunks[2]) - x0);
        }
        store.put(chunkKey(z, cy, cx), codec.encode(raw));
      }
    }
  }
}

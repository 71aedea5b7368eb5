package org.promptdas.core.io.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * A Zarr v2 compressor: how a chunk's bytes are stored. {@link #of} reads the {@code compressor}
 * of {@code .zarray}: none, {@code blosc} ({@link Blosc}), {@code zstd}, {@code gzip} or
 * {@code zlib}; anything else is refused naming the codec. Stateless and thread-safe.
 */
public interface Codec {
  /** The chunk's raw bytes ({@code size} of them) from its stored form. */
  byte[] decode(byte[] stored, int size);

  /** The stored form of raw bytes. */
  byte[] encode(byte[] raw);

  /** The {@code compressor} entry of {@code .zarray} (JSON), or {@code null}. */
  String json();

  /** No compression. */
  Codec NONE = new Codec() {
    @Override
    public byte[] decode(byte[] stored, int size) {
      return stored;
    }

    @Override
    public byte[] encode(byte[] raw) {
      return raw;
    }

    @Override
    public String json() {
      return "null";
    }
  };

  /** The codec a {@code compressor} entry names. */
  static Codec of(JsonNode compressor, int typeSize, String source) {
    if (compressor == null || compressor.isNull()) {
      return NONE;
    }
    String id = compressor.path("id").asText();
    return switch (id) {
      case "blosc" -> new Blosc(compressor.path("cname").asText("lz4"), compressor.path("clevel").asInt(5),
          compressor.path("shuffle").asInt(1), typeSize);
      case "zstd" -> zstd(compressor.path("level").asInt(3));
      case "zlib" -> zlib(compressor.path("level").asInt(1));
      case "gzip" -> gzip(compressor.path("level").asInt(1));
      default -> throw new BadInput(source + ": compressor '" + id + "' is not supported (blosc, zstd, gzip, "
          + "zlib or none)");
    };
  }

  /** The compressors {@link #named} writes with. */
  List<String> NAMES = List.of("blosc-lz4", "blosc-zstd", "blosc-zlib", "zstd", "zlib", "gzip", "none");

  /**
   * A compressor to write with, by one of {@link #NAMES}: Blosc (byte shuffle) over lz4 (zarr-python's
   * default), zstd or zlib at level 5, plain zstd (level 3), zlib or gzip (level 5), or none.
   */
  static Codec named(String name, int typeSize) {
    return switch (name) {
      case "blosc-lz4", "blosc-zstd", "blosc-zlib" -> new Blosc(name.substring("blosc-".length()), 5, 1, typeSize);
      case "zstd" -> zstd(3);
      case "zlib" -> zlib(5);
      case "gzip" -> gzip(5);
      case "none" -> NONE;
      default -> throw new IllegalArgumentException("compressor must be one of " + NAMES + ", got '" + name + "'");
    };
  }

  /**
   * A codec whose {@code compressor} entry is {@code {"id": ID, "level": LEVEL}}, over a decoding
   * and an encoding function.
   */
  record Leveled(String id, int level, BiFunction<byte[], Integer, byte[]> decoder,
      UnaryOperator<byte[]> encoder) implements Codec {
    @Override
    public byte[] decode(byte[] stored, int size) {
      return decoder.apply(stored, size);
    }

    @Override
    public byte[] encode(byte[] raw) {
      return encoder.apply(raw);
    }

    @Override
    public String json() {
      return "{\"id\": \"" + id + "\", \"level\": " + level + "}";
    }
  }

  /** Zstandard frames. */
  static Codec zstd(int level) {
    return new Leveled("zstd", level, Zstd::decompress, raw -> Zstd.compress(raw, level));
  }

  /** zlib streams (RFC 1950). */
  static Codec zlib(int level) {
    return new Leveled("zlib", level, Codec::inflate, raw -> deflate(raw, level));
  }

  /** gzip members (RFC 1952). */
  static Codec gzip(int level) {
    return new Leveled("gzip", level, Codec::gunzip, raw -> gzip(raw, level));
  }

  /** A gzip member's {@code size} bytes. */
  static byte[] gunzip(byte[] stored, int size) {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(stored))) {
      return in.readNBytes(size);
    } catch (IOException e) {
      throw new UncheckedIOException("a gzip chunk cannot be decoded", e);
    }
  }

  /** A gzip member of {@code raw}. */
  static byte[] gzip(byte[] raw, int level) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out) {
      {
        def.setLevel(level);
      }
    }) {
      gz.write(raw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A zlib stream's {@code size} bytes. */
  static byte[] inflate(byte[] stored, int size) {
    Inflater inf = new Inflater();
    try {
      inf.setInput(stored);
      byte[] out = new byte[size];
      int n = 0;
      while (n < size && !inf.finished()) {
        int k = inf.inflate(out, n, size - n);
        if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
          break;
        }
        n += k;
      }
      if (n != size) {
        throw new IllegalStateException("a zlib stream gave " + n + " bytes, " + size + " expected");
      }
      return out;
    } catch (DataFormatException e) {
      throw new IllegalStateException("a zlib stream is corrupt: " + e.getMessage(), e);
    } finally {
      inf.end();
    }
  }

  /** A zlib stream of {@code raw}. */
  static byte[] deflate(byte[] raw, int level) {
    Deflater def = new Deflater(level);
    try {
      def.setInput(raw);
      def.finish();
      ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 2 + 64);
      byte[] buf = new byte[65536];
      while (!def.finished()) {
        out.write(buf, 0, def.deflate(buf));
      }
      return out.toByteArray();
    } finally {
      def.end();
    }
  }
}

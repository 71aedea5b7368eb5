package org.promptdas.core.io.zarr;

import com.github.luben.zstd.Zstd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Blosc 1 chunks, as zarr-python's default compressor writes them (c-blosc's documented format):
 * a 16-byte header (version, versionlz, flags, typesize, nbytes, blocksize, cbytes; little-endian),
 * then block starts and blocks, each block possibly split into one stream per byte of the type,
 * each stream prefixed by its compressed size and stored raw when that equals its raw size. Flags
 * say whether the blocks were byte-shuffled (0x01) or bit-shuffled (0x04), stored as one raw copy
 * (0x02), not split (0x10), and which inner codec compressed them (bits 5-7). Decoding supports
 * the inner codecs lz4 (and lz4hc), zstd and zlib; encoding writes one unsplit block with lz4,
 * zstd or zlib after no, byte or bit shuffle. Thread-safe.
 *
 * @param cname the inner codec for encoding: {@code lz4}, {@code zstd} or {@code zlib}
 * @param clevel compression level for encoding (zstd, zlib; lz4 uses its fast mode)
 * @param shuffle 0 none, 1 byte shuffle, 2 bit shuffle
 * @param typeSize bytes per element
 */
public record Blosc(String cname, int clevel, int shuffle, int typeSize) implements Codec {
  private static final int HEADER = 16;
  private static final int MAX_SPLITS = 16;
  private static final int MIN_BUFFERSIZE = 128;
  private static final int FLAG_SHUFFLE = 0x01;
  private static final int FLAG_MEMCPYED = 0x02;
  private static final int FLAG_BITSHUFFLE = 0x04;
  private static final int FLAG_DONT_SPLIT = 0x10;
  private static final int LZ4 = 1;
  private static final int ZLIB = 3;
  private static final int ZSTD = 4;
  private static final LZ4SafeDecompressor LZ4_DECODER = LZ4Factory.safeInstance().safeDecompressor();
  private static final LZ4Compressor LZ4_ENCODER = LZ4Factory.safeInstance().fastCompressor();

  @Override
  public byte[] decode(byte[] stored, int size) {
    if (stored.length < HEADER) {
      throw new IllegalStateException("a Blosc chunk of " + stored.length + " bytes has no header");
    }
    ByteBuffer b = ByteBuffer.wrap(stored).order(ByteOrder.LITTLE_ENDIAN);
    int flags = stored[2] & 0xff;
    int ts = Math.max(1, stored[3] & 0xff);
    int nbytes = b.getInt(4);
    int blocksize = b.getInt(8);
    if (nbytes != size) {
      throw new IllegalStateException("a Blosc chunk holds " + nbytes + " bytes, " + size + " expected");
    }
    if ((flags & FLAG_MEMCPYED) != 0) {
      return Arrays.copyOfRange(stored, HEADER, HEADER + nbytes);
    }
    int codec = flags >> 5;
    if (codec != LZ4 && codec != ZLIB && codec != ZSTD) {
      throw new IllegalStateException("Blosc inner codec " + codecName(codec) + " is not supported (lz4, zstd, zlib)");
    }
    byte[] out = new byte[nbytes];
    int nblocks = nbytes / blocksize + (nbytes % blocksize > 0 ? 1 : 0);
    byte[] tmp = new byte[blocksize];
    for (int j = 0; j < nblocks; j++) {
      boolean leftover = j == nblocks - 1 && nbytes % blocksize > 0;
      int bsize = leftover ? nbytes % blocksize : blocksize;
      boolean split = (flags & FLAG_DONT_SPLIT) == 0 && ts <= MAX_SPLITS && bsize / ts >= MIN_BUFFERSIZE && !leftover;
      int nsplits = split ? ts : 1;
      int neblock = bsize / nsplits;
      int at = b.getInt(HEADER + 4 * j);
      int pos = 0;
      for (int s = 0; s < nsplits; s++) {
        int csize = b.getInt(at);
        at += 4;
        if (csize == neblock) {
          System.arraycopy(stored, at, tmp, pos, neblock);
        } else {
          inner(codec, stored, at, csize, tmp, pos, neblock);
        }
        at += csize;
        pos += neblock;
      }
      int dest = j * blocksize;
      if ((flags & FLAG_SHUFFLE) != 0 && ts > 1) {
        unshuffle(tmp, bsize, ts, out, dest);
      } else if ((flags & FLAG_BITSHUFFLE) != 0 && bsize >= ts) {
        bitunshuffle(tmp, bsize, ts, out, dest);
      } else {
        System.arraycopy(tmp, 0, out, dest, bsize);
      }
    }
    return out;
  }

  private static void inner(int codec, byte[] src, int at, int len, byte[] dst, int pos, int size) {
    int n;
    switch (codec) {
      case LZ4 -> n = LZ4_DECODER.decompress(src, at, len, dst, pos, size);
      case ZSTD -> n = (int) Zstd.decompressByteArray(dst, pos, size, src, at, len);
      default -> {
        Inflater inf = new Inflater();
        try {
          inf.setInput(src, at, len);
          n = inf.inflate(dst, pos, size);
        } catch (DataFormatException e) {
          throw new IllegalStateException("a Blosc zlib stream is corrupt: " + e.getMessage(), e);
        } finally {
          inf.end();
        }
      }
    }
    if (n != size) {
      throw new IllegalStateException("a Blosc " + codecName(codec) + " stream gave " + n + " bytes, " + size + " expected");
    }
  }

  private static String codecName(int code) {
    return switch (code) {
      case 0 -> "blosclz";
      case LZ4 -> "lz4";
      case 2 -> "snappy";
      case ZLIB -> "zlib";
      case ZSTD -> "zstd";
      default -> "#" + code;
    };
  }

  /** Byte unshuffle: stream k of the block holds byte k of every element. */
  static void unshuffle(byte[] src, int bsize, int ts, byte[] dst, int at) {
    int n = bsize / ts;
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < ts; k++) {
        dst[at + i * ts + k] = src[k * n + i];
      }
    }
    System.arraycopy(src, n * ts, dst, at + n * ts, bsize - n * ts);
  }

  /** Byte shuffle, {@link #unshuffle}'s inverse. */
  static void shuffle(byte[] src, int bsize, int ts, byte[] dst) {
    int n = bsize / ts;
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < ts; k++) {
        dst[k * n + i] = src[i * ts + k];
      }
    }
    System.arraycopy(src, n * ts, dst, n * ts, bsize - n * ts);
  }

  /**
   * Bit unshuffle: with n elements (a multiple of 8; otherwise the block is stored as is), row r =
   * 8 j + k of the block holds bit k of byte j of every element, element i at bit i % 8 of the
   * row's byte i / 8; bytes after the last whole element are copied.
   */
  static void bitunshuffle(byte[] src, int bsize, int ts, byte[] dst, int at) {
    int n = bsize / ts;
    if (n % 8 != 0) {
      System.arraycopy(src, 0, dst, at, bsize);
      return;
    }
    int rowBytes = n / 8;
    Arrays.fill(dst, at, at + n * ts, (byte) 0);
    for (int j = 0; j < ts; j++) {
      for (int k = 0; k < 8; k++) {
        int row = (j * 8 + k) * rowBytes;
        for (int i = 0; i < n; i++) {
          int bit = (src[row + (i >> 3)] >> (i & 7)) & 1;
          dst[at + i * ts + j] |= (byte) (bit << k);
        }
      }
    }
    System.arraycopy(src, n * ts, dst, at + n * ts, bsize - n * ts);
  }

  /** Bit shuffle, {@link #bitunshuffle}'s inverse (blocks of n elements, n not a multiple of 8, copied). */
  static void bitshuffle(byte[] src, int bsize, int ts, byte[] dst) {
    int n = bsize / ts;
    if (n % 8 != 0) {
      System.arraycopy(src, 0, dst, 0, bsize);
      return;
    }
    int rowBytes = n / 8;
    Arrays.fill(dst, 0, n * ts, (byte) 0);
    for (int j = 0; j < ts; j++) {
      for (int k = 0; k < 8; k++) {
        int row = (j * 8 + k) * rowBytes;
        for (int i = 0; i < n; i++) {
          int bit = (src[i * ts + j] >> k) & 1;
          dst[row + (i >> 3)] |= (byte) (bit << (i & 7));
        }
      }
    }
    System.arraycopy(src, n * ts, dst, n * ts, bsize - n * ts);
  }

  @Override
  public byte[] encode(byte[] raw) {
    if (shuffle < 0 || shuffle > 2) {
      throw new IllegalArgumentException("Blosc shuffle must be 0, 1 or 2, got " + shuffle);
    }
    int n = raw.length;
    int code = codecCode(cname);
    int ts = Math.max(1, typeSize);
    byte[] block = raw;
    int shuffleFlag = 0;
    if (shuffle == 1 && ts > 1) {
      block = new byte[n];
      shuffle(raw, n, ts, block);
      shuffleFlag = FLAG_SHUFFLE;
    } else if (shuffle == 2 && n >= ts) {
      block = new byte[n];
      bitshuffle(raw, n, ts, block);
      shuffleFlag = FLAG_BITSHUFFLE;
    }
    byte[] packed = compress(code, block);
    boolean rawBlock = packed.length >= n;  // a stream as long as the block would read as a raw copy
    int csize = rawBlock ? n : packed.length;
    ByteBuffer out = ByteBuffer.allocate(HEADER + 4 + 4 + csize).order(ByteOrder.LITTLE_ENDIAN);
    out.put((byte) 2).put((byte) 1).put((byte) (shuffleFlag | FLAG_DONT_SPLIT | (code << 5)))
        .put((byte) ts).putInt(n).putInt(Math.max(1, n)).putInt(HEADER + 8 + csize);
    out.putInt(HEADER + 4).putInt(csize);
    out.put(rawBlock ? block : packed, 0, csize);
    return out.array();
  }

  /** One block compressed with an inner codec at {@link #clevel}. */
  private byte[] compress(int code, byte[] block) {
    if (block.length == 0) {
      return block;
    }
    return switch (code) {
      case LZ4 -> LZ4_ENCODER.compress(block);
      case ZSTD -> Zstd.compress(block, clevel);
      default -> Codec.deflate(block, Math.min(9, clevel));
    };
  }

  /** The inner codec's number in the header's flags; only those this class decodes. */
  private static int codecCode(String cname) {
    return switch (cname) {
      case "lz4" -> LZ4;
      case "zstd" -> ZSTD;
      case "zlib" -> ZLIB;
      default -> throw new IllegalArgumentException("Blosc inner codec must be lz4, zstd or zlib, got '" + cname + "'");
    };
  }

  @Override
  public String json() {
    return "{\"id\": \"blosc\", \"cname\": \"" + cname + "\", \"clevel\": " + clevel + ", \"shuffle\": "
        + shuffle + ", \"blocksize\": 0}";
  }
}

package org.promptdas.core.io.zarr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * A Zarr v2 {@code dtype}: unsigned or signed integers of 1, 2, 4 or 8 bytes and floats of 4 or 8
 * bytes, little- or big-endian ({@code "<u2"}, {@code ">f4"}, {@code "|u1"}).
 *
 * @param kind {@code 'u'}, {@code 'i'} or {@code 'f'}
 * @param bytes bytes per element
 * @param order the byte order of stored elements
 */
public record ElementType(char kind, int bytes, ByteOrder order) {

  /** The type of a {@code dtype} string. */
  public static ElementType parse(String dtype, String source) {
    if (dtype == null || dtype.length() < 3) {
      throw new BadInput(source + ": dtype " + dtype + " is not a Zarr v2 numeric type");
    }
    char endian = dtype.charAt(0);
    char kind = dtype.charAt(1);
    int bytes;
    try {
      bytes = Integer.parseInt(dtype.substring(2));
    } catch (NumberFormatException e) {
      throw new BadInput(source + ": dtype " + dtype + " is not a Zarr v2 numeric type");
    }
    boolean ok = (kind == 'u' || kind == 'i') && (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8)
        || kind == 'f' && (bytes == 4 || bytes == 8);
    if (!ok || "<>|".indexOf(endian) < 0) {
      throw new BadInput(source + ": dtype " + dtype + " is not supported (unsigned or signed integers, "
          + "or floats of 4 or 8 bytes)");
    }
    return new ElementType(kind, bytes, endian == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
  }

  /** The {@code dtype} string, little-endian unless big. */
  public String dtype() {
    return (bytes == 1 ? "|" : order == ByteOrder.BIG_ENDIAN ? ">" : "<") + kind + bytes;
  }

  /** Element {@code i} of {@code raw} as a double (exact for integers up to 2^53). */
  public double get(ByteBuffer raw, int i) {
    int at = i * bytes;
    return switch (kind) {
      case 'f' -> bytes == 4 ? raw.getFloat(at) : raw.getDouble(at);
      case 'i' -> switch (bytes) {
        case 1 -> raw.get(at);
        case 2 -> raw.getShort(at);
        case 4 -> raw.getInt(at);
        default -> raw.getLong(at);
      };
      default -> switch (bytes) {
        case 1 -> raw.get(at) & 0xff;
        case 2 -> raw.getShort(at) & 0xffff;
        case 4 -> raw.getInt(at) & 0xffffffffL;
        default -> raw.getLong(at);
      };
    };
  }

  /** {@code raw} read in this type's byte order. */
  public ByteBuffer view(byte[] raw) {
    return ByteBuffer.wrap(raw).order(order);
  }
}

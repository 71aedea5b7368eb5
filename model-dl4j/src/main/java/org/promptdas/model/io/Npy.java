package org.promptdas.model.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * NumPy {@code .npy} files (format 1.0/2.0, C order) of float32 or float64, read as float32;
 * written as little-endian float32. Stateless and thread-safe.
 */
public final class Npy {
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|]?)([fi])(\\d)'");
  private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  private Npy() {}

  public static INDArray read(String name, byte[] bytes) {
    if (bytes.length < 10 || bytes[0] != (byte) 0x93 || bytes[1] != 'N' || bytes[2] != 'U') {
      throw new BadInput(name + ": not a .npy file");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int major = bytes[6];
    int headerLen = major == 1 ? buf.getShort(8) & 0xffff : buf.getInt(8);
    int start = (major == 1 ? 10 : 12) + headerLen;
    String header = new String(bytes, major == 1 ? 10 : 12, headerLen, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher o = ORDER.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !o.find() || !s.find()) {
      throw new BadInput(name + ": unreadable .npy header " + header.trim());
    }
    if (o.group(1).equals("True")) {
      throw new BadInput(name + ": Fortran-ordered arrays are not supported");
    }
    if (!d.group(2).equals("f") || !(d.group(3).equals("4") || d.group(3).equals("8"))
        || d.group(1).equals(">")) {
      throw new BadInput(name + ": dtype " + d.group(0) + " not supported (float32 or float64)");
    }
    String[] dims = s.group(1).split(",");
    long[] shape = java.util.Arrays.stream(dims).map(String::trim).filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    long count = java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    int width = Integer.parseInt(d.group(3));
    if (start + count * width > bytes.length) {
      throw new BadInput(name + ": truncated (" + bytes.length + " bytes for shape "
          + java.util.Arrays.toString(shape) + ")");
    }
    float[] f = new float[(int) count];
    for (int i = 0; i < count; i++) {
      f[i] = width == 4 ? buf.getFloat(start + 4 * i) : (float) buf.getDouble(start + 8 * i);
    }
    return Nd4j.create(f, shape, 'c');
  }

  public static void write(OutputStream out, INDArray a) throws IOException {
    StringBuilder shape = new StringBuilder();
    for (long s : a.shape()) {
      shape.append(s).append(", ");
    }
    String dims = a.rank() == 1 ? shape.toString().trim() : shape.substring(0, Math.max(0, shape.length() - 2));
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    int total = 10 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    header = header + " ".repeat(pad) + "\n";
    ByteBuffer head = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    head.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length());
    out.write(head.array());
    out.write(header.getBytes(StandardCharsets.ISO_8859_1));
    float[] f = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(f);
    out.write(b.array());
  }
}

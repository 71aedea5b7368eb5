package org.promptdas.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * The safetensors format (an 8-byte little-endian header length, a JSON header of name ->
 * dtype, shape, byte offsets, an optional {@code __metadata__} string map, then the raw tensors),
 * which PyTorch checkpoints convert to with one line:
 * {@code safetensors.torch.save_file(torch.load("ckpt.pth")["model"], "w.safetensors")}.
 * Reads F32, F64, F16 and BF16 (as float32); writes F32. Stateless and thread-safe.
 */
public final class Safetensors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Safetensors() {}

  /** Tensors and metadata of one file. */
  public record Contents(Map<String, INDArray> tensors, Map<String, String> metadata) {}

  public static Contents read(String name, byte[] bytes) {
    try {
      if (bytes.length < 8) {
        throw new BadInput(name + ": not a safetensors file (" + bytes.length + " bytes)");
      }
      ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      long headerLen = buf.getLong(0);
      if (headerLen <= 0 || headerLen > bytes.length - 8) {
        throw new BadInput(name + ": not a safetensors file (header length " + headerLen + ")");
      }
      JsonNode header = JSON.readTree(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8));
      long base = 8 + headerLen;
      Map<String, INDArray> tensors = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        JsonNode t = e.getValue();
        long[] shape = new long[t.get("shape").size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
          shape[i] = t.get("shape").get(i).asLong();
          count *= shape[i];
        }
        long start = base + t.get("data_offsets").get(0).asLong();
        long end = base + t.get("data_offsets").get(1).asLong();
        String dtype = t.get("dtype").asText();
        int width = switch (dtype) {
          case "F32" -> 4;
          case "F64" -> 8;
          case "F16", "BF16" -> 2;
          default -> throw new BadInput(name + ": tensor " + e.getKey() + " has unsupported dtype " + dtype);
        };
        if (end > bytes.length || end - start != count * width) {
          throw new BadInput(name + ": tensor " + e.getKey() + " is truncated or its offsets are wrong");
        }
        float[] f = new float[(int) count];
        for (int i = 0; i < count; i++) {
          int at = (int) (start + (long) i * width);
          f[i] = switch (dtype) {
            case "F32" -> buf.getFloat(at);
            case "F64" -> (float) buf.getDouble(at);
            case "F16" -> halfToFloat(buf.getShort(at));
            default -> Float.intBitsToFloat((buf.getShort(at) & 0xffff) << 16);
          };
        }
        tensors.put(e.getKey(), Nd4j.create(f, shape, 'c'));
      }
      return new Contents(tensors, metadata);
    } catch (IOException | RuntimeException e) {
      if (e instanceof BadInput b) {
        throw b;
      }
      throw new BadInput(name + ": not a readable safetensors file (" + e.getMessage() + ")", e);
    }
  }

  /** IEEE 754 half precision to float (Float.float16ToFloat needs Java 20). */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Writes float32 tensors (in the given order) and string metadata. */
  public static void write(OutputStream out, Map<String, INDArray> tensors, Map<String, String> metadata)
      throws IOException {
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode m = header.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    long offset = 0;
    for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", "F32");
      var shape = t.putArray("shape");
      for (long s : e.getValue().shape()) {
        shape.add(s);
      }
      long len = e.getValue().length() * 4;
      t.putArray("data_offsets").add(offset).add(offset + len);
      offset += len;
    }
    byte[] h = JSON.writeValueAsBytes(header);
    int pad = (8 - h.length % 8) % 8; // the format aligns the data start
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length + pad);
    out.write(len.array());
    out.write(h);
    for (int i = 0; i < pad; i++) {
      out.write(' ');
    }
    for (INDArray a : tensors.values()) {
      float[] f = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
      ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(f);
      out.write(b.array());
    }
  }
}

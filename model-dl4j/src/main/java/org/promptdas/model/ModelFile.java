package org.promptdas.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.io.AtomicFiles;
import org.promptdas.model.io.Safetensors;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/**
 * This project's model file: a safetensors file whose metadata holds {@code format =
 * prompt-das-model}, a format {@code version} and the network configuration as JSON, and whose
 * tensors are the weights in the authors' names and layouts (so any safetensors tool can read
 * it). Saving writes a temporary file and renames it, so a crash never leaves a half-written model.
 */
public final class ModelFile {
  public static final String FORMAT = "prompt-das-model";
  public static final int VERSION = 1;

  private ModelFile() {}

  public static byte[] toBytes(PromptDasModel model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      write(out, model.weights());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void write(OutputStream out, Weights w) throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put("version", Integer.toString(VERSION));
    meta.put("config", w.config().toJson());
    Safetensors.write(out, w.tensors(), meta);
  }

  /** Saves atomically: a temporary file beside {@code path}, then a rename. */
  public static void save(PromptDasModel model, Path path) {
    try {
      AtomicFiles.write(path, out -> write(out, model.weights()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the model to " + path, e);
    }
  }

  public static PromptDasModel load(Path path, NetworkConfig expected) {
    try {
      return fromBytes(path.toString(), Files.readAllBytes(path), expected);
    } catch (NoSuchFileException e) {
      throw new BadInput(path + ": no such model file");
    } catch (IOException e) {
      throw new BadInput(path + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Reads a model file.
   *
   * @param expected the network the caller needs, or null to take the file's; a file saved for
   *     another network is refused with the difference named
   */
  public static PromptDasModel fromBytes(String name, byte[] bytes, NetworkConfig expected) {
    Safetensors.Contents c = Safetensors.read(name, bytes);
    if (!FORMAT.equals(c.metadata().get("format"))) {
      throw new BadInput(name + ": not a prompt-das model file (no '" + FORMAT + "' metadata; "
          + "import the authors' weights with predict-crop --weights or the import command)");
    }
    int version = Integer.parseInt(c.metadata().getOrDefault("version", "0"));
    if (version != VERSION) {
      throw new BadInput(name + ": model file version " + version + ", this build reads " + VERSION);
    }
    NetworkConfig saved = NetworkConfig.fromJson(c.metadata().get("config"));
    if (expected != null && !expected.equals(saved)) {
      throw new BadInput(name + ": saved for network " + saved.toJson() + ", but " + expected.toJson()
          + " was requested");
    }
    Map<String, INDArray> t = c.tensors();
    return new PromptDasModel(Weights.of(saved, t, name));
  }
}

package org.promptdas.model.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.io.AtomicFiles;
import org.promptdas.model.io.Safetensors;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/**
 * A training checkpoint: a {@link TrainingState} as one safetensors file with metadata
 * {@code format = prompt-das-checkpoint}, the network and training configuration, the step and
 * AdamW's update count. Student and teacher are stored in the authors' layout (as in model files),
 * the moments in graph layout. Files are saved atomically; a checkpoint of another network is
 * refused when the caller names the one it expects. The same bytes are what a distributed round
 * broadcasts.
 */
public final class Checkpoint {
  public static final String FORMAT = "prompt-das-checkpoint";
  public static final int VERSION = 1;

  private Checkpoint() {}

  public static byte[] toBytes(TrainingState s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      write(out, s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Saves {@code t}'s state atomically (a temporary file beside {@code path}, then a rename). */
  public static void save(Trainer t, Path path) {
    TrainingState s = t.state();
    try {
      AtomicFiles.write(path, out -> write(out, s));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the checkpoint to " + path, e);
    }
  }

  private static void write(OutputStream out, TrainingState s) throws IOException {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    Weights.fromGraph(s.network(), s.student()).tensors().forEach((k, v) -> tensors.put("student/" + k, v));
    Weights.fromGraph(s.network(), s.teacher()).tensors().forEach((k, v) -> tensors.put("teacher/" + k, v));
    s.firstMoments().forEach((k, v) -> tensors.put("adam_m/" + k, v));
    s.secondMoments().forEach((k, v) -> tensors.put("adam_v/" + k, v));
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put("version", Integer.toString(VERSION));
    meta.put("network", s.network().toJson());
    meta.put("training", s.training().toJson());
    meta.put("step", Long.toString(s.step()));
    meta.put("adam_steps", Long.toString(s.adamSteps()));
    Safetensors.write(out, tensors, meta);
  }

  /** Restores a trainer exactly as it was saved (see {@link #read}). */
  public static Trainer load(Path path, NetworkConfig expectedNetwork) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new BadInput(path + ": no such checkpoint");
    } catch (IOException e) {
      throw new BadInput(path + ": cannot be read (" + e.getMessage() + ")", e);
    }
    return Trainer.from(read(path.toString(), bytes, expectedNetwork));
  }

  /**
   * Reads a checkpoint's state.
   *
   * @param name how errors name the checkpoint (its path)
   * @param expectedNetwork the network the caller trains, or null to take the checkpoint's
   */
  public static TrainingState read(String name, byte[] bytes, NetworkConfig expectedNetwork) {
    Safetensors.Contents c = Safetensors.read(name, bytes);
    if (!FORMAT.equals(c.metadata().get("format"))) {
      throw new BadInput(name + ": not a prompt-das checkpoint");
    }
    if (!Integer.toString(VERSION).equals(c.metadata().get("version"))) {
      throw new BadInput(name + ": checkpoint version " + c.metadata().get("version")
          + ", this build reads " + VERSION);
    }
    NetworkConfig net = NetworkConfig.fromJson(c.metadata().get("network"));
    if (expectedNetwork != null && !expectedNetwork.equals(net)) {
      throw new BadInput(name + ": checkpoint of network " + net.toJson() + ", but "
          + expectedNetwork.toJson() + " was requested");
    }
    Map<String, Map<String, INDArray>> parts = new HashMap<>();
    c.tensors().forEach((k, v) -> {
      int slash = k.indexOf('/');
      parts.computeIfAbsent(k.substring(0, slash), x -> new LinkedHashMap<>()).put(k.substring(slash + 1), v);
    });
    return new TrainingState(net, TrainConfig.fromJson(c.metadata().get("training")),
        Long.parseLong(c.metadata().get("step")), Long.parseLong(c.metadata().get("adam_steps")),
        Weights.of(net, parts.get("student"), name + " (student)").graphTensors(),
        Weights.of(net, parts.get("teacher"), name + " (teacher)").graphTensors(),
        parts.getOrDefault("adam_m", Map.of()), parts.getOrDefault("adam_v", Map.of()));
  }
}

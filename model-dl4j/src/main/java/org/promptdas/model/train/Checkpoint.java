package org.promptdas.model.train;

import java.io.IOException;
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
 * A training checkpoint: network and training configuration, step, student and teacher weights
 * (authors' layout, as in model files), and AdamW's moments. Random state needs no saving: step t's
 * random choices are a function of (seed, t). One safetensors file with metadata
 * {@code format = prompt-das-checkpoint}; saved atomically; a checkpoint of another network or
 * training configuration is refused when the caller names the one it expects.
 */
public final class Checkpoint {
  public static final String FORMAT = "prompt-das-checkpoint";
  public static final int VERSION = 1;

  private Checkpoint() {}

  public static void save(Trainer t, Path path) {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    t.studentWeights().tensors().forEach((k, v) -> tensors.put("student/" + k, v));
    t.teacherWeights().tensors().forEach((k, v) -> tensors.put("teacher/" + k, v));
    t.optimiser().firstMoments().forEach((k, v) -> tensors.put("adam_m/" + k, v));
    t.optimiser().secondMoments().forEach((k, v) -> tensors.put("adam_v/" + k, v));
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put("version", Integer.toString(VERSION));
    meta.put("network", t.network().toJson());
    meta.put("training", t.config().toJson());
    meta.put("step", Long.toString(t.step()));
    meta.put("adam_steps", Long.toString(t.optimiser().steps()));
    try {
      AtomicFiles.write(path, out -> Safetensors.write(out, tensors, meta));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the checkpoint to " + path, e);
    }
  }

  /**
   * Restores a trainer exactly as it was saved.
   *
   * @param expectedNetwork the network the caller trains, or null to take the checkpoint's
   */
  public static Trainer load(Path path, NetworkConfig expectedNetwork) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new BadInput(path + ": no such checkpoint");
    } catch (IOException e) {
      throw new BadInput(path + ": cannot be read (" + e.getMessage() + ")", e);
    }
    Safetensors.Contents c = Safetensors.read(path.toString(), bytes);
    if (!FORMAT.equals(c.metadata().get("format"))) {
      throw new BadInput(path + ": not a prompt-das checkpoint");
    }
    if (!Integer.toString(VERSION).equals(c.metadata().get("version"))) {
      throw new BadInput(path + ": checkpoint version " + c.metadata().get("version")
          + ", this build reads " + VERSION);
    }
    NetworkConfig net = NetworkConfig.fromJson(c.metadata().get("network"));
    if (expectedNetwork != null && !expectedNetwork.equals(net)) {
      throw new BadInput(path + ": checkpoint of network " + net.toJson() + ", but "
          + expectedNetwork.toJson() + " was requested");
    }
    TrainConfig cfg = TrainConfig.fromJson(c.metadata().get("training"));
    Map<String, Map<String, INDArray>> parts = new HashMap<>();
    c.tensors().forEach((k, v) -> {
      int slash = k.indexOf('/');
      parts.computeIfAbsent(k.substring(0, slash), x -> new LinkedHashMap<>()).put(k.substring(slash + 1), v);
    });
    Trainer t = new Trainer(Weights.of(net, parts.get("student"), path + " (student)"), cfg);
    Weights teacher = Weights.of(net, parts.get("teacher"), path + " (teacher)");
    Map<String, INDArray> teacherGraph = new LinkedHashMap<>();
    t.teacherArrays().keySet().forEach(k -> teacherGraph.put(k, Weights.graphLayoutOf(teacher, k)));
    t.restore(Long.parseLong(c.metadata().get("step")), teacherGraph);
    t.optimiser().restore(Long.parseLong(c.metadata().get("adam_steps")),
        parts.getOrDefault("adam_m", Map.of()), parts.getOrDefault("adam_v", Map.of()));
    return t;
  }
}

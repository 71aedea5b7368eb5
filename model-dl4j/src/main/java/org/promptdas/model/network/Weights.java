package org.promptdas.model.network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * The network's tensors in the authors' names and PyTorch layouts ({@link ParamSpec}), float32.
 * Built by importing (checked name by name and shape by shape against the configuration), by
 * initialising, or from a trained graph. The graph holds convolution kernels as YXIO (SameDiff's
 * conv2d backprop needs it); {@link #graphArray} and {@link #fromGraph} convert.
 */
public final class Weights {
  /** Tensors of the authors' state_dict that the forward pass never reads. */
  static final Set<String> UNUSED_PREFIXES = Set.of("image_encoder.cls_token", "pe_layer.",
      "prompt_encoder.no_mask_embed", "prompt_encoder.not_a_point_embed",
      "prompt_encoder.point_embeddings");

  private final NetworkConfig config;
  private final Map<String, INDArray> tensors;

  private Weights(NetworkConfig config, Map<String, INDArray> tensors) {
    this.config = config;
    this.tensors = tensors;
  }

  public NetworkConfig config() {
    return config;
  }

  /** Name -> tensor in PyTorch layout, in {@link ParamSpec} order (unmodifiable). */
  public Map<String, INDArray> tensors() {
    return Collections.unmodifiableMap(tensors);
  }

  /**
   * Checks imported tensors against {@code config}: every expected tensor present with its shape;
   * unknown names are an error (a checkpoint of another network); known unused ones are skipped.
   */
  public static Weights of(NetworkConfig config, Map<String, INDArray> raw, String source) {
    Map<String, long[]> spec = ParamSpec.of(config);
    List<String> errors = new ArrayList<>();
    Map<String, INDArray> t = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : spec.entrySet()) {
      INDArray a = raw.get(e.getKey());
      if (a == null) {
        errors.add("missing " + e.getKey());
      } else if (!Arrays.equals(a.shape(), e.getValue())) {
        errors.add(e.getKey() + " has shape " + Arrays.toString(a.shape()) + ", the configuration needs "
            + Arrays.toString(e.getValue()));
      } else {
        t.put(e.getKey(), a.castTo(DataType.FLOAT));
      }
    }
    for (String name : raw.keySet()) {
      boolean unused = name.matches(".*\\.attention\\.out_proj\\.(weight|bias)")
          || UNUSED_PREFIXES.stream().anyMatch(name::startsWith);
      if (!spec.containsKey(name) && !unused) {
        errors.add("unexpected tensor " + name);
      }
    }
    if (!errors.isEmpty()) {
      throw new BadInput(source + ": weights do not fit the network " + config.toJson() + ": "
          + (errors.size() > 6 ? String.join("; ", errors.subList(0, 6)) + "; ... ("
              + (errors.size() - 6) + " more)" : String.join("; ", errors)));
    }
    return new Weights(config, t);
  }

  /**
   * Fresh weights: linear and convolution weights from a truncated normal (std 0.02), biases 0,
   * norms 1 and 0, the Fourier matrix and the mask token standard normal (as SAM initialises them).
   */
  public static Weights initialise(NetworkConfig config, long seed) {
    Nd4j.getRandom().setSeed(seed);
    Map<String, INDArray> t = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : ParamSpec.of(config).entrySet()) {
      String n = e.getKey();
      long[] shape = e.getValue();
      INDArray a;
      if (n.endsWith("gaussian_matrix") || n.endsWith("mask_tokens.weight")) {
        a = Nd4j.randn(DataType.FLOAT, shape);
      } else if (n.endsWith(".bias") || (isNorm(n) && n.endsWith(".bias"))) {
        a = Nd4j.zeros(DataType.FLOAT, shape);
      } else if (isNorm(n)) {
        a = Nd4j.ones(DataType.FLOAT, shape);
      } else {
        a = Nd4j.randn(DataType.FLOAT, shape).muli(0.02);
        a = Nd4j.math().clipByValue(a, -0.04, 0.04);
      }
      t.put(n, a);
    }
    return new Weights(config, t);
  }

  /** Replaces the decoder with fresh weights when only encoder weights were given (DINO). */
  public static Weights encoderOnly(NetworkConfig config, Map<String, INDArray> raw, long seed,
      String source) {
    Weights fresh = initialise(config, seed);
    Map<String, INDArray> merged = new LinkedHashMap<>(fresh.tensors);
    for (Map.Entry<String, INDArray> e : raw.entrySet()) {
      if (e.getKey().startsWith("image_encoder.") && merged.containsKey(e.getKey())) {
        merged.put(e.getKey(), e.getValue());
      }
    }
    return of(config, merged, source);
  }

  private static boolean isNorm(String n) {
    return n.matches(".*(norm\\d?|norm_final_attn|output_upscaling\\.1|decode_head\\d\\.1)\\.(weight|bias)");
  }

  /** True for tensors the graph holds in another layout (3x3 and 1x1 convolution kernels). */
  static boolean convKernel(String name) {
    return name.startsWith("mask_decoder.decode_head") && name.endsWith(".weight")
        && !name.endsWith(".1.weight");
  }

  /** The tensor as the graph holds it, in {@code type}. */
  INDArray graphArray(String name, DataType type) {
    INDArray a = tensors.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no tensor " + name);
    }
    INDArray g = convKernel(name) ? a.permute(2, 3, 1, 0) : a;
    return g.castTo(type).dup('c');
  }

  /** Every tensor in graph layout and float32, by name (copies). */
  public Map<String, INDArray> graphTensors() {
    Map<String, INDArray> out = new LinkedHashMap<>();
    tensors().keySet().forEach(k -> out.put(k, graphArray(k, DataType.FLOAT)));
    return out;
  }

  /** Weights from graph variables (name -> array in graph layout). */
  public static Weights fromGraph(NetworkConfig config, Map<String, INDArray> graph) {
    Map<String, INDArray> t = new LinkedHashMap<>();
    for (String n : ParamSpec.of(config).keySet()) {
      INDArray a = graph.get(n);
      t.put(n, (convKernel(n) ? a.permute(3, 2, 0, 1) : a).castTo(DataType.FLOAT).dup('c'));
    }
    return new Weights(config, t);
  }
}

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
   * Checks imported tensors against {@code config}: every expected tensor present with its shape
   * and finite values; unknown names are an error (a checkpoint of another network); known unused
   * ones are skipped.
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
      } else if (!finite(a)) {
        errors.add(e.getKey() + " holds values that are not finite (NaN or infinite)");
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
   * Fresh weights as the authors' modules initialise them: the ViT blocks' linear weights and the
   * position embedding from N(0, 0.02^2) (DINO's {@code trunc_normal_}, whose bounds of +-2 are
   * absolute), their biases 0; every other linear, convolution and transposed convolution as
   * PyTorch's default (weight and bias uniform in +-1/sqrt(fan_in)); norms 1 and 0; the Fourier
   * matrix and the mask token standard normal (SAM).
   */
  public static Weights initialise(NetworkConfig config, long seed) {
    Nd4j.getRandom().setSeed(seed);
    Map<String, long[]> spec = ParamSpec.of(config);
    Map<String, INDArray> t = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : spec.entrySet()) {
      String n = e.getKey();
      long[] shape = e.getValue();
      INDArray a;
      if (n.equals(ParamSpec.FOURIER) || n.endsWith("mask_tokens.weight")) {
        a = Nd4j.randn(DataType.FLOAT, shape);
      } else if (isNorm(n)) {
        a = n.endsWith(".bias") ? Nd4j.zeros(DataType.FLOAT, shape) : Nd4j.ones(DataType.FLOAT, shape);
      } else if (n.equals("image_encoder.pos_embed") || (vitBlock(n) && n.endsWith(".weight"))) {
        a = Nd4j.randn(DataType.FLOAT, shape).muli(0.02);
      } else if (vitBlock(n)) {
        a = Nd4j.zeros(DataType.FLOAT, shape);
      } else {
        String weight = n.endsWith(".bias") ? n.substring(0, n.length() - 5) + ".weight" : n;
        double bound = 1 / Math.sqrt(fanIn(weight, spec.get(weight)));
        a = Nd4j.rand(DataType.FLOAT, shape).muli(2 * bound).subi(bound);
      }
      t.put(n, a);
    }
    return new Weights(config, t);
  }

  private static boolean vitBlock(String n) {
    return n.startsWith("image_encoder.blocks.");
  }

  /**
   * PyTorch's fan-in of a weight: Linear [out, in] and Conv2d [out, in, k, k] take in * k * k,
   * ConvTranspose2d [in, out, k, k] takes its second dimension (out * k * k), as PyTorch computes it.
   */
  private static long fanIn(String weight, long[] shape) {
    long receptive = shape.length == 4 ? shape[2] * shape[3] : 1;
    return shape[1] * receptive;
  }

  /** True when every value of {@code a} is finite. */
  public static boolean finite(INDArray a) {
    for (float f : a.castTo(DataType.FLOAT).dup('c').data().asFloat()) {
      if (!Float.isFinite(f)) {
        return false;
      }
    }
    return true;
  }

  /** The first tensor of {@code tensors} that holds a value that is not finite, or null. */
  public static String firstNonFinite(Map<String, INDArray> tensors) {
    for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
      if (!finite(e.getValue())) {
        return e.getKey();
      }
    }
    return null;
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

  /**
   * True for the tensors that AdamW does not decay: norms, biases, the position embedding, the
   * mask token and the fixed Fourier matrix (as DINO and SAM train them).
   */
  public static boolean decays(String n) {
    return !(isNorm(n) || n.endsWith(".bias") || n.endsWith("pos_embed") || n.endsWith("mask_tokens.weight")
        || ParamSpec.frozen(n));
  }

  /**
   * True for tensors the graph holds in another layout: the convolution kernels of the detection
   * head, the stem, the skips and their fusions (3x3, 2x2 and 1x1).
   */
  static boolean convKernel(String name) {
    if (!name.endsWith(".weight") || isNorm(name)) {
      return false;
    }
    return (name.startsWith("mask_decoder.decode_head") && !name.endsWith(".1.weight"))
        || name.startsWith(ParamSpec.STEM) || name.startsWith(ParamSpec.SKIP) || name.startsWith(ParamSpec.FUSE);
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

package org.promptdas.model.io;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/**
 * Imports weights named as the authors' {@code state_dict} (a converted Prompt-DAS checkpoint), or
 * a DINO ViT checkpoint (names without the {@code image_encoder.} prefix; any position grid, e.g.
 * 28x28), whose decoder is then initialised. The network configuration is read off the tensors:
 * width, patch, depth and position grid from the encoder; decoder sizes from the decoder when
 * present (else the paper's); attention heads as width / 64 (ViT-S: 6) and 8 in the decoder.
 */
public final class WeightImport {
  private WeightImport() {}

  public static Weights load(String source, byte[] bytes, int imageSize, long seed) {
    Map<String, INDArray> t = canonical(Safetensors.read(source, bytes).tensors());
    NetworkConfig cfg = inferConfig(source, t, imageSize);
    boolean hasDecoder = t.keySet().stream().anyMatch(k -> k.startsWith("mask_decoder."));
    return hasDecoder ? Weights.of(cfg, t, source) : Weights.encoderOnly(cfg, t, seed, source);
  }

  /** Prefixes DINO's bare encoder names with {@code image_encoder.}. */
  static Map<String, INDArray> canonical(Map<String, INDArray> raw) {
    boolean bare = raw.containsKey("patch_embed.proj.weight");
    if (!bare) {
      return raw;
    }
    Map<String, INDArray> out = new LinkedHashMap<>();
    raw.forEach((k, v) -> {
      if (!k.startsWith("head.")) { // DINO's projection head is not part of the encoder
        out.put("image_encoder." + k, v);
      }
    });
    return out;
  }

  public static NetworkConfig inferConfig(String source, Map<String, INDArray> t, int imageSize) {
    INDArray pe = t.get("image_encoder.patch_embed.proj.weight");
    INDArray pos = t.get("image_encoder.pos_embed");
    if (pe == null || pos == null) {
      throw new BadInput(source + ": no image_encoder.patch_embed.proj.weight / pos_embed: "
          + "not a Prompt-DAS or DINO ViT checkpoint");
    }
    int dim = (int) pe.size(0);
    int patch = (int) pe.size(2);
    int depth = count(t, "image_encoder.blocks.");
    int grid = (int) Math.round(Math.sqrt(pos.size(1) - 1));
    if ((long) grid * grid != pos.size(1) - 1) {
      throw new BadInput(source + ": pos_embed has " + pos.size(1) + " rows, not 1 + a square grid");
    }
    INDArray fc1 = t.get("image_encoder.blocks.0.mlp.fc1.weight");
    int mlpRatio = fc1 == null ? 4 : (int) (fc1.size(0) / dim);
    NetworkConfig paper = NetworkConfig.paper();
    int decDepth = count(t, "mask_decoder.transformer.layers.");
    INDArray lin1 = t.get("mask_decoder.transformer.layers.0.mlp.lin1.weight");
    INDArray det = t.get("mask_decoder.decode_head1.0.weight");
    return new NetworkConfig(imageSize, patch, dim, depth, Math.max(1, dim / 64), mlpRatio, grid,
        decDepth == 0 ? paper.decoderDepth() : decDepth, paper.decoderHeads(),
        lin1 == null ? paper.decoderMlp() : (int) lin1.size(0),
        det == null ? paper.detChannels() : (int) det.size(0), paper.detGroups());
  }

  private static int count(Map<String, INDArray> t, String prefix) {
    TreeSet<Integer> ids = new TreeSet<>();
    for (String k : t.keySet()) {
      if (k.startsWith(prefix)) {
        String rest = k.substring(prefix.length());
        ids.add(Integer.parseInt(rest.substring(0, rest.indexOf('.'))));
      }
    }
    return ids.size();
  }
}

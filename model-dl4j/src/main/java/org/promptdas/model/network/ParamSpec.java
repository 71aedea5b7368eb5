package org.promptdas.model.network;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Names and shapes of every trainable tensor of the network, in the authors' {@code state_dict}
 * names and PyTorch layouts (Linear [out, in], Conv2d [out, in, kh, kw], ConvTranspose2d
 * [in, out, kh, kw]). Import, initialisation, checkpoints and the graph all use this one list.
 * Tensors the authors' model holds but never uses in its forward pass (the class token, the
 * top-level {@code pe_layer}, SAM's label and no-mask embeddings, and the masked attentions'
 * inner {@code attention.out_proj}) are not part of it.
 */
public final class ParamSpec {
  /** Prefix of the convolutional stem's tensors ({@link NetworkConfig#stemWidth}). */
  public static final String STEM = "image_encoder.stem.";
  /** Prefix of the high-resolution skips into the mask upscaling (networks with a stem). */
  public static final String SKIP = "mask_decoder.skip.";
  /** Prefix of the 3x3 convolutions that fuse each skip in the mask upscaling (networks with a stem). */
  public static final String FUSE = "mask_decoder.fuse.";
  /**
   * The tensors that are fixed buffers in the authors' network, never trained: the random Fourier
   * matrix of the prompt encoder.
   */
  public static final String FOURIER = "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix";

  private ParamSpec() {}

  /** True for a tensor that training never changes ({@link #FOURIER}). */
  public static boolean frozen(String name) {
    return name.equals(FOURIER);
  }

  public static Map<String, long[]> of(NetworkConfig c) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long d = c.embedDim();
    long a = c.attnDim();
    if (c.hasStem()) {
      long w = c.stemWidth();
      for (int level = 1; level <= 2; level++) {
        long width = w << level;
        conv(m, STEM + level + ".merge", level == 1 ? 3 : width / 2, width, 2);
        for (int unit = 0; unit < 2; unit++) {
          conv(m, STEM + level + "." + unit + ".conv", width, width, 3);
          norm(m, STEM + level + "." + unit + ".norm", width);
        }
      }
      conv(m, STEM + "3.merge", 4 * w, d, 2);
    } else {
      m.put("image_encoder.patch_embed.proj.weight", new long[] {d, 3, c.patchSize(), c.patchSize()});
      m.put("image_encoder.patch_embed.proj.bias", new long[] {d});
    }
    m.put("image_encoder.pos_embed", new long[] {1, (long) c.posGrid() * c.posGrid() + 1, d});
    for (int i = 0; i < c.depth(); i++) {
      String p = "image_encoder.blocks." + i + ".";
      norm(m, p + "norm1", d);
      linear(m, p + "attn.qkv", d, 3 * d);
      linear(m, p + "attn.proj", d, d);
      norm(m, p + "norm2", d);
      linear(m, p + "mlp.fc1", d, d * c.mlpRatio());
      linear(m, p + "mlp.fc2", d * c.mlpRatio(), d);
    }
    norm(m, "image_encoder.norm", d);
    m.put(FOURIER, new long[] {2, d / 2});
    m.put("mask_decoder.mask_tokens.weight", new long[] {1, d});
    for (int i = 0; i < c.decoderDepth(); i++) {
      String p = "mask_decoder.transformer.layers." + i + ".";
      attention(m, p + "self_attn", d, a);
      norm(m, p + "norm1", d);
      attention(m, p + "cross_attn_token_to_image", d, a);
      norm(m, p + "norm2", d);
      linear(m, p + "mlp.lin1", d, c.decoderMlp());
      linear(m, p + "mlp.lin2", c.decoderMlp(), d);
      norm(m, p + "norm3", d);
      attention(m, p + "cross_attn_image_to_token", d, a);
      norm(m, p + "norm4", d);
    }
    attention(m, "mask_decoder.transformer.final_attn_token_to_image", d, a);
    norm(m, "mask_decoder.transformer.norm_final_attn", d);
    m.put("mask_decoder.output_upscaling.0.weight", new long[] {d, d / 4, 2, 2});
    m.put("mask_decoder.output_upscaling.0.bias", new long[] {d / 4});
    norm(m, "mask_decoder.output_upscaling.1", d / 4);
    m.put("mask_decoder.output_upscaling.3.weight", new long[] {d / 4, d / 8, 2, 2});
    m.put("mask_decoder.output_upscaling.3.bias", new long[] {d / 8});
    if (c.hasStem()) {
      conv(m, SKIP + "0", 4L * c.stemWidth(), d / 4, 1);
      conv(m, FUSE + "0.conv", d / 4, d / 4, 3);
      norm(m, FUSE + "0.norm", d / 4);
      conv(m, SKIP + "1", 2L * c.stemWidth(), d / 8, 1);
      conv(m, FUSE + "1.conv", d / 8, d / 8, 3);
      norm(m, FUSE + "1.norm", d / 8);
    }
    linear(m, "mask_decoder.output_hypernetworks_mlps.layers.0", d, d);
    linear(m, "mask_decoder.output_hypernetworks_mlps.layers.1", d, d);
    linear(m, "mask_decoder.output_hypernetworks_mlps.layers.2", d, d / 8);
    long k = c.detChannels();
    m.put("mask_decoder.decode_head1.0.weight", new long[] {k, d / 8, 3, 3});
    m.put("mask_decoder.decode_head1.0.bias", new long[] {k});
    norm(m, "mask_decoder.decode_head1.1", k);
    m.put("mask_decoder.decode_head2.0.weight", new long[] {k, k, 3, 3});
    m.put("mask_decoder.decode_head2.0.bias", new long[] {k});
    norm(m, "mask_decoder.decode_head2.1", k);
    m.put("mask_decoder.decode_head2.3.weight", new long[] {1, k, 1, 1});
    m.put("mask_decoder.decode_head2.3.bias", new long[] {1});
    linear(m, "mask_decoder.Contrast_mlp.layers.0", d, d);
    linear(m, "mask_decoder.Contrast_mlp.layers.1", d, d);
    linear(m, "mask_decoder.Contrast_mlp.layers.2", d, d);
    return m;
  }

  private static void conv(Map<String, long[]> m, String p, long in, long out, long k) {
    m.put(p + ".weight", new long[] {out, in, k, k});
    m.put(p + ".bias", new long[] {out});
  }

  private static void linear(Map<String, long[]> m, String p, long in, long out) {
    m.put(p + ".weight", new long[] {out, in});
    m.put(p + ".bias", new long[] {out});
  }

  private static void norm(Map<String, long[]> m, String p, long n) {
    m.put(p + ".weight", new long[] {n});
    m.put(p + ".bias", new long[] {n});
  }

  private static void attention(Map<String, long[]> m, String p, long d, long a) {
    linear(m, p + ".q_proj", d, a);
    linear(m, p + ".k_proj", d, a);
    linear(m, p + ".v_proj", d, a);
    linear(m, p + ".out_proj", a, d);
  }
}

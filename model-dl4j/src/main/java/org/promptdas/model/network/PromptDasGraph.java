package org.promptdas.model.network;

import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.engine.GraphOps;

/**
 * Builds the Prompt-DAS forward graph for fixed sizes (batch, prompt slots, extra tokens):
 * <ul>
 *   <li>encoder: DINO ViT (patch embedding as a matmul, the position embedding always resampled
 *       bicubically to the patch grid, no class token, pre-norm blocks, final norm); with a
 *       convolutional stem ({@link NetworkConfig#stemWidth}) instead of the patch embedding,
 *       channels last, its 1/4 and 1/2 resolution levels also feed the mask upscaling;</li>
 *   <li>prompt encoder: random Fourier features of (x + 0.5) / size, no label embeddings;</li>
 *   <li>decoder: mask token then prompt tokens then extra tokens; a two-way transformer whose
 *       first self-attention replaces the queries, masked self- and image-to-token attentions;
 *       a token-to-image attention at the end;</li>
 *   <li>heads: mask upscaling x4 with the hypernetwork dot product (sigmoid: {@value #SEG}),
 *       the density head ({@value #DET}) and the contrastive MLP on every token
 *       ({@value #CONTRAST}).</li>
 * </ul>
 * Placeholders: {@value #IMAGE} [b, 3, s, s] (normalised), {@value #POINTS} [b, p + e, 2] pixel
 * (x, y), {@value #SELF_MASK} [b, 1, t, t] and {@value #KEY_MASK} [b, 1, 1, t] additive masks
 * (0 or a large negative) from {@link TokenMasks}, t = 1 + p + e.
 */
public final class PromptDasGraph {
  public static final String IMAGE = "image";
  public static final String POINTS = "points";
  public static final String SELF_MASK = "self_mask";
  public static final String KEY_MASK = "key_mask";
  public static final String SEG_LOGITS = "seg_logits";
  /** Mask logits upsampled x2 (bilinear) to the crop size: [b, s, s]. */
  public static final String SEG_LOGITS_FULL = "seg_logits_full";
  public static final String SEG = "seg";
  public static final String DET = "det";
  public static final String CONTRAST = "contrast";
  /**
   * Encoder tokens entering a block or the head, in graphs built in parts: [b * n, d], a variable
   * that is an input (its array is set before each run), not a weight.
   */
  public static final String TOKENS = "tokens";
  /** An encoder block's output tokens: [b * n, d]. */
  public static final String ENCODED = "encoded";
  /** The upstream gradient of {@value #ENCODED}: [b * n, d]. */
  public static final String TOKENS_GRAD = "tokens_grad";
  /** sum(encoded * tokens_grad), the loss of an encoder block's backward pass. */
  public static final String PROJECTED = "projected";

  private PromptDasGraph() {}

  /**
   * A new graph with variables initialised from {@code w}, computing in {@code type}, made of ops
   * that SameDiff M2.1 can differentiate (for training; {@link #buildInference} for predictions).
   */
  public static SameDiff build(Weights w, int batch, int prompts, int extras, DataType type) {
    return build(w, batch, prompts, extras, type, Engine::trainingOps);
  }

  /**
   * {@link #build}'s network for forward passes only (predictions, the mean teacher): the same
   * outputs up to rounding, with faster ops that have no gradient in SameDiff M2.1 (libnd4j's
   * bilinear resize for the x2 upsamplings, {@link Layers#upsample2x}; views instead of copies
   * around the long sequences' softmax, {@link Layers#packedHeads}). Run it in an {@link Engine}:
   * SameDiff's own sessions would reuse buffers that views still read (and throw).
   */
  public static SameDiff buildInference(Weights w, int batch, int prompts, int extras, DataType type) {
    return build(w, batch, prompts, extras, type, Engine::forwardOps);
  }

  private static SameDiff build(Weights w, int batch, int prompts, int extras, DataType type,
      Function<SameDiff, GraphOps> ops) {
    SameDiff sd = SameDiff.create();
    Variables v = new Variables(sd, w, type);
    Layers l = new Layers(sd, v, ops.apply(sd));
    Embedded e = embed(sd, v, l, w.config(), batch, type);
    SDVariable x = e.tokens();
    for (int i = 0; i < w.config().depth(); i++) {
      x = block(sd, l, w.config(), x, i, batch);
    }
    decode(sd, v, l, w.config(), x, e, batch, prompts, extras, type);
    return Engine.withHelperPolicy(sd);
  }

  /**
   * Encoder block {@code i} alone, for training that recomputes the encoder's activations: input
   * the variable {@value #TOKENS} [b * n, d] (for block 0 the {@value #IMAGE} placeholder and the
   * patch embedding instead), output {@value #ENCODED} [b * n, d], and the scalar {@value #PROJECTED}
   * = sum({@value #ENCODED} * {@value #TOKENS_GRAD}) whose gradients are the block's backward
   * pass for an upstream gradient {@value #TOKENS_GRAD}.
   */
  public static SameDiff buildEncoderBlock(Weights w, int i, int batch, DataType type) {
    requireNoStem(w.config());
    SameDiff sd = SameDiff.create();
    encoderBlock(sd, new Variables(sd, w, type), w.config(), i, batch, type, Engine::trainingOps);
    long rows = (long) batch * w.config().grid() * w.config().grid();
    sd.sum(PROJECTED, sd.getVariable(ENCODED).mul(sd.placeHolder(TOKENS_GRAD, type, rows, w.config().embedDim())));
    sd.setLossVariables(PROJECTED);
    return sd;
  }

  /**
   * {@link #buildEncoderBlock}'s forward pass only ({@value #ENCODED}, no {@value #PROJECTED}), with
   * the views of {@link #buildInference}, on the very arrays of {@code block} (that block's graph
   * for network {@code c}), so that updates to its weights show here: the first, forward pass of a
   * recomputing training step. Run it in an {@link Engine}.
   */
  public static SameDiff buildEncoderBlockInference(SameDiff block, NetworkConfig c, int i, int batch, DataType type) {
    SameDiff sd = SameDiff.create();
    encoderBlock(sd, new Variables(sd, n -> block.getVariable(n).getArr(), type), c, i, batch, type, Engine::forwardOps);
    return sd;
  }

  private static void encoderBlock(SameDiff sd, Variables v, NetworkConfig c, int i, int batch,
      DataType type, Function<SameDiff, GraphOps> ops) {
    long rows = (long) batch * c.grid() * c.grid();
    Layers l = new Layers(sd, v, ops.apply(sd));
    SDVariable x = i == 0 ? embed(sd, v, l, c, batch, type).tokens() : tokens(sd, rows, c.embedDim(), type);
    SDVariable out = block(sd, l, c, x, i, batch);
    sd.updateVariableNameAndReference(out, ENCODED);
    Engine.withHelperPolicy(sd);
  }

  /**
   * Everything after the encoder blocks (final norm, prompt encoder, decoder, heads), taking the
   * last block's output as the variable {@value #TOKENS} [b * n, d] instead of an image.
   */
  public static SameDiff buildHead(Weights w, int batch, int prompts, int extras, DataType type) {
    NetworkConfig c = w.config();
    requireNoStem(c);
    SameDiff sd = SameDiff.create();
    Variables v = new Variables(sd, w, type);
    SDVariable x = tokens(sd, (long) batch * c.grid() * c.grid(), c.embedDim(), type);
    decode(sd, v, new Layers(sd, v, Engine.trainingOps(sd)), c, x, new Embedded(x, null, null), batch, prompts, extras, type);
    return Engine.withHelperPolicy(sd);
  }

  /** Graphs built in parts pass only tokens between them, not a stem's skips. */
  private static void requireNoStem(NetworkConfig c) {
    if (c.hasStem()) {
      throw new IllegalArgumentException("a network with a convolutional stem is not built in parts "
          + "(no encoder recomputation)");
    }
  }

  /**
   * The incoming tokens of a graph built in parts: a variable, not a placeholder, because SameDiff
   * M2.1 computes no gradients for placeholders; set its array before each run.
   */
  private static SDVariable tokens(SameDiff sd, long rows, int d, DataType type) {
    return sd.var(TOKENS, Nd4j.zeros(type, rows, d));
  }

  /**
   * The encoder's input tokens [b * n, d] (position embedding added) and, with a stem, its 1/4 and
   * 1/2 resolution levels (channels last) for the skips into the mask upscaling, else null.
   */
  private record Embedded(SDVariable tokens, SDVariable quarter, SDVariable half) {}

  /** The {@value #IMAGE} placeholder, patch embedding or stem, and resampled position embedding. */
  private static Embedded embed(SameDiff sd, Variables v, Layers l, NetworkConfig c, int b, DataType type) {
    int s = c.imageSize();
    int g = c.grid();
    int d = c.embedDim();
    int n = g * g;
    SDVariable image = sd.placeHolder(IMAGE, type, b, 3, s, s);
    Embedded e;
    if (c.hasStem()) {
      e = stem(sd, l, c, image, b);
    } else {
      int p = c.patchSize();
      SDVariable patches = sd.reshape(sd.permute(sd.reshape(image, b, 3, g, p, g, p), 0, 2, 4, 1, 3, 5),
          (long) b * n, 3L * p * p);
      e = new Embedded(sd.mmul(patches, sd.reshape(v.get("image_encoder.patch_embed.proj.weight"), d, 3L * p * p),
          false, true, false).add(v.get("image_encoder.patch_embed.proj.bias")), null, null);
    }
    int pg = c.posGrid();
    SDVariable pos = sd.reshape(sd.slice(v.get("image_encoder.pos_embed"), new int[] {0, 1, 0},
        new int[] {1, pg * pg, d}), (long) pg * pg, d);
    double[][] r = Interpolation.bicubic(pg, g, (g + 0.1) / pg);
    pos = sd.mmul(v.constant("pos_resample", Interpolation.kron(r, r), false), pos);
    SDVariable tokens = sd.reshape(sd.reshape(e.tokens(), b, n, d).add(pos), (long) b * n, d);
    return new Embedded(tokens, e.quarter(), e.half());
  }

  /**
   * The convolutional stem on the image [b, 3, s, s]: at 1/2 and 1/4 resolution a 2x2 stride-2
   * convolution followed by two units of a 3x3 convolution, group norm and ReLU, and a last 2x2
   * stride-2 convolution to the tokens (1/8, without position embedding).
   */
  private static Embedded stem(SameDiff sd, Layers l, NetworkConfig c, SDVariable image, int b) {
    int s = c.imageSize();
    SDVariable x = sd.permute(image, 0, 2, 3, 1);
    SDVariable[] levels = new SDVariable[3];
    int in = 3;
    for (int level = 1; level <= 2; level++) {
      int n = s >> level;
      int width = c.stemWidth() << level;
      x = l.merge2x2(x, ParamSpec.STEM + level + ".merge", b, 2 * n, in, width);
      for (int unit = 0; unit < 2; unit++) {
        x = l.convNormRelu(x, ParamSpec.STEM + level + "." + unit, b, n, width, width);
      }
      levels[level] = x;
      in = width;
    }
    SDVariable tokens = sd.reshape(l.merge2x2(x, ParamSpec.STEM + "3.merge", b, s / 4, in, c.embedDim()),
        (long) b * c.grid() * c.grid(), c.embedDim());
    return new Embedded(tokens, levels[2], levels[1]);
  }

  /** Pre-norm encoder block {@code i} on tokens x [b * n, d]. */
  private static SDVariable block(SameDiff sd, Layers l, NetworkConfig c, SDVariable x, int i, int b) {
    int n = c.grid() * c.grid();
    int d = c.embedDim();
    String pre = "image_encoder.blocks." + i + ".";
    long rows = (long) b * n;
    SDVariable y = l.layerNorm(x, pre + "norm1", 1e-6, rows);
    x = x.add(l.linear(l.selfAttention(y, pre + "attn.qkv", b, n, d, c.heads()), pre + "attn.proj", rows));
    y = l.layerNorm(x, pre + "norm2", 1e-6, rows);
    return x.add(l.linear(l.gelu(l.linear(y, pre + "mlp.fc1", rows)), pre + "mlp.fc2", rows));
  }

  /** The final encoder norm, prompt encoder, two-way decoder and heads on the encoder's tokens x. */
  private static void decode(SameDiff sd, Variables v, Layers l, NetworkConfig c, SDVariable x,
      Embedded skips, int b, int prompts, int extras, DataType type) {
    int s = c.imageSize();
    int g = c.grid();
    int d = c.embedDim();
    int n = g * g;
    int t = 1 + prompts + extras;
    SDVariable keys = l.layerNorm(x, "image_encoder.norm", 1e-6);            // [b*n, d]

    // ---- prompt encoder and tokens
    SDVariable gauss = v.get("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix");
    SDVariable maskToken = sd.reshape(sd.mmul(sd.constant("ones_b", Nd4j.ones(type, b, 1)),
        v.get("mask_decoder.mask_tokens.weight")), b, 1, d);
    SDVariable tokens = maskToken;
    if (t > 1) {
      SDVariable pts = sd.placeHolder(POINTS, type, b, t - 1, 2);
      SDVariable unit = pts.add(0.5).div(s);
      SDVariable pe = fourier(sd, sd.reshape(unit, (long) b * (t - 1), 2), gauss);
      tokens = sd.concat(1, maskToken, sd.reshape(pe, b, t - 1, d));
    }
    SDVariable tokenRows = sd.reshape(tokens, (long) b * t, d);
    // dense positional encoding of the patch grid: same Fourier matrix, cell centres
    INDArray centres = Nd4j.create(type, n, 2);
    for (int yy = 0; yy < g; yy++) {
      for (int xx = 0; xx < g; xx++) {
        centres.putScalar(new long[] {(long) yy * g + xx, 0}, (xx + 0.5) / g);
        centres.putScalar(new long[] {(long) yy * g + xx, 1}, (yy + 0.5) / g);
      }
    }
    SDVariable keyPe = fourier(sd, sd.constant("grid_centres", centres), gauss);   // [n, d]
    SDVariable[] copies = new SDVariable[b];
    java.util.Arrays.fill(copies, keyPe);
    SDVariable keyPeRows = b == 1 ? keyPe : sd.concat(0, copies);                 // [b*n, d]

    // ---- two-way transformer
    SDVariable selfMask = sd.placeHolder(SELF_MASK, type, b, 1, t, t);
    SDVariable keyMask = sd.placeHolder(KEY_MASK, type, b, 1, 1, t);
    SDVariable qs = tokenRows;
    int a = c.attnDim();
    int dh = c.decoderHeads();
    for (int i = 0; i < c.decoderDepth(); i++) {
      String pre = "mask_decoder.transformer.layers." + i + ".";
      if (i == 0) {
        qs = attention(l, sd, qs, qs, qs, pre + "self_attn", b, t, t, a, dh, selfMask);
      } else {
        SDVariable q = qs.add(tokenRows);
        qs = qs.add(attention(l, sd, q, q, qs, pre + "self_attn", b, t, t, a, dh, selfMask));
      }
      qs = l.layerNorm(qs, pre + "norm1", 1e-5);
      qs = qs.add(attention(l, sd, qs.add(tokenRows), keys.add(keyPeRows), keys,
          pre + "cross_attn_token_to_image", b, t, n, a, dh, null));
      qs = l.layerNorm(qs, pre + "norm2", 1e-5);
      qs = l.layerNorm(qs.add(l.linear(l.relu(l.linear(qs, pre + "mlp.lin1")), pre + "mlp.lin2")),
          pre + "norm3", 1e-5);
      keys = keys.add(attention(l, sd, keys.add(keyPeRows), qs.add(tokenRows), qs,
          pre + "cross_attn_image_to_token", b, n, t, a, dh, keyMask));
      keys = l.layerNorm(keys, pre + "norm4", 1e-5);
    }
    qs = qs.add(attention(l, sd, qs.add(tokenRows), keys.add(keyPeRows), keys,
        "mask_decoder.transformer.final_attn_token_to_image", b, t, n, a, dh, null));
    qs = l.layerNorm(qs, "mask_decoder.transformer.norm_final_attn", 1e-5);

    // ---- heads
    SDVariable src = sd.permute(sd.reshape(keys, b, g, g, d), 0, 3, 1, 2);         // [b, d, g, g]
    SDVariable u = l.convTranspose2x2(src, "mask_decoder.output_upscaling.0", b, d, d / 4, g);
    if (skips.quarter() != null) {
      u = u.add(l.conv1x1(skips.quarter(), ParamSpec.SKIP + "0", b, 4 * c.stemWidth(), d / 4, 2 * g));
    }
    u = l.gelu(l.layerNorm2d(u, "mask_decoder.output_upscaling.1", b, d / 4, 2 * g, 1e-6));
    if (skips.quarter() != null) {
      u = fuse(sd, l, u, ParamSpec.FUSE + "0", b, d / 4, 2 * g);
    }
    u = l.convTranspose2x2(u, "mask_decoder.output_upscaling.3", b, d / 4, d / 8, 2 * g);
    if (skips.half() != null) {
      u = u.add(l.conv1x1(skips.half(), ParamSpec.SKIP + "1", b, 2 * c.stemWidth(), d / 8, 4 * g));
    }
    u = l.gelu(u);
    if (skips.half() != null) {
      u = fuse(sd, l, u, ParamSpec.FUSE + "1", b, d / 8, 4 * g);
    }
    int m = c.maskSize();
    SDVariable maskOut = sd.reshape(sd.slice(sd.reshape(qs, b, t, d), new int[] {0, 0, 0},
        new int[] {b, 1, d}), b, d);
    SDVariable hyper = l.relu(l.linear(maskOut, "mask_decoder.output_hypernetworks_mlps.layers.0"));
    hyper = l.relu(l.linear(hyper, "mask_decoder.output_hypernetworks_mlps.layers.1"));
    hyper = l.linear(hyper, "mask_decoder.output_hypernetworks_mlps.layers.2");      // [b, d/8]
    SDVariable logits = sd.mmul(sd.reshape(hyper, b, 1, d / 8), sd.reshape(u, b, d / 8, (long) m * m));
    logits = sd.reshape(logits, b, m, m);
    sd.updateVariableNameAndReference(logits, SEG_LOGITS);
    sd.nn.sigmoid(SEG, logits);
    SDVariable full = l.upsample2x(logits, new long[] {b, m, m}, 1, 2);
    sd.updateVariableNameAndReference(full, SEG_LOGITS_FULL);

    int k = c.detChannels();
    // channels last from here: oneDNN convolves it faster (Layers.conv)
    SDVariable det = l.conv(sd.permute(u, 0, 2, 3, 1), "mask_decoder.decode_head1.0", 3,
        new long[] {b, m, m, d / 8});
    det = l.relu(l.groupNorm(det, "mask_decoder.decode_head1.1", b, k, m, c.detGroups(), 1e-5));
    det = l.upsample2x(det, new long[] {b, m, m, k}, 1, 2);
    det = l.conv(det, "mask_decoder.decode_head2.0", 3, new long[] {b, 2L * m, 2L * m, k});
    det = l.relu(l.groupNorm(det, "mask_decoder.decode_head2.1", b, k, 2 * m, c.detGroups(), 1e-5));
    det = l.conv1x1(det, "mask_decoder.decode_head2.3", b, k, 1, 2 * m);
    sd.updateVariableNameAndReference(det, DET);

    SDVariable z = l.relu(l.linear(qs, "mask_decoder.Contrast_mlp.layers.0"));
    z = l.relu(l.linear(z, "mask_decoder.Contrast_mlp.layers.1"));
    z = l.linear(z, "mask_decoder.Contrast_mlp.layers.2");
    sd.updateVariableNameAndReference(sd.reshape(z, b, t, d), CONTRAST);
  }

  /**
   * The fusion after a skip: a 3x3 convolution, group norm and ReLU on u [b, ch, n, n] (NCHW in and
   * out), so the skip's detail and the tokens' meaning mix across neighbouring pixels.
   */
  private static SDVariable fuse(SameDiff sd, Layers l, SDVariable u, String name, int b, int ch, int n) {
    return sd.permute(l.convNormRelu(sd.permute(u, 0, 2, 3, 1), name, b, n, ch, ch), 0, 3, 1, 2);
  }

  /** sin/cos of 2 pi (2c - 1) G for coordinates c [rows, 2] in [0, 1]: [rows, d]. */
  private static SDVariable fourier(SameDiff sd, SDVariable unit, SDVariable gauss) {
    SDVariable proj = sd.mmul(unit.mul(2).sub(1), gauss).mul(2 * Math.PI);
    return sd.concat(1, sd.math.sin(proj), sd.math.cos(proj));
  }

  /** SAM attention with q/k/v projections to {@code a} dims and the output projection back. */
  private static SDVariable attention(Layers l, SameDiff sd, SDVariable q, SDVariable k,
      SDVariable v, String name, int b, int nq, int nk, int a, int heads, SDVariable mask) {
    SDVariable qp = sd.reshape(l.linear(q, name + ".q_proj"), b, nq, a);
    SDVariable kp = sd.reshape(l.linear(k, name + ".k_proj"), b, nk, a);
    SDVariable vp = sd.reshape(l.linear(v, name + ".v_proj"), b, nk, a);
    return l.linear(l.heads(qp, kp, vp, b, nq, nk, a, heads, mask), name + ".out_proj");
  }
}

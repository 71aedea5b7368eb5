package org.promptdas.model.network;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.promptdas.core.PromptDasException.BadConfig;

/**
 * Every size of the Prompt-DAS network. {@link #paper()} is the paper's configuration (DINO ViT-S/8
 * encoder on 384x384 crops, SAM-style two-way decoder of depth 2); {@link #tiny()} is a small one
 * for tests; {@link #cpu()} is the network for training from scratch on a CPU. Derived sizes
 * follow the authors' network: attention inside the decoder runs on {@code embedDim / 2}, the mask
 * upscaling has {@code embedDim / 4} then {@code embedDim / 8} channels, the hypernetwork outputs
 * {@code embedDim / 8}.
 *
 * <p>A {@code stemWidth} above 0 replaces the 8x8 patch embedding by a convolutional stem: at 1/2
 * and 1/4 resolution a 2x2 stride-2 convolution followed by two units of a 3x3 convolution, group
 * norm and ReLU (twice and four times {@code stemWidth} channels), and a last 2x2 stride-2
 * convolution to the tokens. Both levels also feed the mask upscaling as high-resolution skips (1x1
 * convolutions added after each transposed convolution, then fused by a 3x3 convolution, group
 * norm and ReLU), so the masks get fine detail the 8 px tokens lack. A ViT trained from scratch without it stays unconfident on
 * real EM at CPU budgets; 0 is the authors' network.
 *
 * @param imageSize crop side in px (a multiple of the patch size)
 * @param patchSize encoder patch size (8)
 * @param embedDim encoder width, also the decoder width (384)
 * @param depth encoder blocks (12)
 * @param heads encoder attention heads (6)
 * @param mlpRatio encoder MLP width / embedDim (4)
 * @param posGrid side of the position-embedding grid stored in the weights (48 for the authors'
 *     trained model at 384 px, 28 for DINO's released weights); always resampled to the patch grid
 * @param decoderDepth two-way transformer layers (2)
 * @param decoderHeads decoder attention heads (8)
 * @param decoderMlp decoder MLP width (2048)
 * @param detChannels detection head width (256)
 * @param detGroups group-norm groups of the detection head (8)
 * @param stemWidth channels of the convolutional stem's first level, 0 for the authors' patch
 *     embedding (a stem needs patch size 8)
 */
public record NetworkConfig(int imageSize, int patchSize, int embedDim, int depth, int heads,
    int mlpRatio, int posGrid, int decoderDepth, int decoderHeads, int decoderMlp, int detChannels,
    int detGroups, int stemWidth) {

  public NetworkConfig {
    check(patchSize > 0 && imageSize > 0 && imageSize % patchSize == 0,
        "imageSize " + imageSize + " must be a positive multiple of patchSize " + patchSize);
    check(embedDim % heads == 0, "embedDim " + embedDim + " must be divisible by heads " + heads);
    check(embedDim % 16 == 0, "embedDim " + embedDim + " must be a multiple of 16");
    check((embedDim / 2) % decoderHeads == 0,
        "embedDim/2 = " + embedDim / 2 + " must be divisible by decoderHeads " + decoderHeads);
    check(detChannels % detGroups == 0, "detChannels must be divisible by detGroups");
    check(depth >= 1 && decoderDepth >= 1 && posGrid >= 1 && mlpRatio >= 1 && decoderMlp >= 1,
        "depths, posGrid, mlpRatio and decoderMlp must be positive");
    check(stemWidth >= 0, "stemWidth must be 0 (none) or positive");
    check(stemWidth == 0 || patchSize == 8, "a convolutional stem needs patchSize 8, got " + patchSize);
    check(stemWidth % 8 == 0, "stemWidth must be a multiple of 8 (the stem's group norms), got " + stemWidth);
  }

  /** A network with the authors' patch embedding (no stem). */
  public NetworkConfig(int imageSize, int patchSize, int embedDim, int depth, int heads,
      int mlpRatio, int posGrid, int decoderDepth, int decoderHeads, int decoderMlp, int detChannels,
      int detGroups) {
    this(imageSize, patchSize, embedDim, depth, heads, mlpRatio, posGrid, decoderDepth,
        decoderHeads, decoderMlp, detChannels, detGroups, 0);
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new BadConfig("network configuration: " + message);
    }
  }

  /** The paper's network: ViT-S/8 on 384 px crops, position grid 48 (the authors' checkpoint). */
  public static NetworkConfig paper() {
    return new NetworkConfig(384, 8, 384, 12, 6, 4, 48, 2, 8, 2048, 256, 8);
  }

  /** A small network for tests: 64 px, width 64, one encoder block. */
  public static NetworkConfig tiny() {
    return new NetworkConfig(64, 8, 64, 1, 2, 2, 8, 2, 4, 96, 16, 4);
  }

  /**
   * A mid-size network that trains on a CPU in an hour or so: 128 px, width 96, two encoder blocks
   * (the real-data benchmark's network).
   */
  public static NetworkConfig small() {
    return new NetworkConfig(128, 8, 96, 2, 3, 4, 16, 2, 4, 256, 32, 8);
  }

  /**
   * The network for training from scratch on a CPU (no pretrained weights): the small network's
   * transformer over a convolutional stem of width 16 with high-resolution skips.
   */
  public static NetworkConfig cpu() {
    return new NetworkConfig(128, 8, 96, 2, 3, 4, 16, 2, 4, 256, 32, 8, 16);
  }

  /** The preset names {@link #named} knows. */
  public static final List<String> PRESETS = List.of("tiny", "small", "cpu", "paper");

  /** The preset of that name: tiny, small, cpu or paper. */
  public static NetworkConfig named(String name) {
    return switch (name) {
      case "tiny" -> tiny();
      case "small" -> small();
      case "cpu" -> cpu();
      case "paper" -> paper();
      default -> throw new BadConfig("network must be one of " + PRESETS + ", got '" + name + "'");
    };
  }

  /** True when the network has a convolutional stem (and skips into the mask upscaling). */
  public boolean hasStem() {
    return stemWidth > 0;
  }

  /** Patches per side (48 at 384 px). */
  public int grid() {
    return imageSize / patchSize;
  }

  /** Side of the segmentation logits (4 x grid: 192 at 384 px, half the input). */
  public int maskSize() {
    return 4 * grid();
  }

  public int attnDim() {
    return embedDim / 2;
  }

  public NetworkConfig withImageSize(int size) {
    return new NetworkConfig(size, patchSize, embedDim, depth, heads, mlpRatio, posGrid,
        decoderDepth, decoderHeads, decoderMlp, detChannels, detGroups, stemWidth);
  }

  public String toJson() {
    try {
      return new ObjectMapper().writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static NetworkConfig fromJson(String json) {
    try {
      return new ObjectMapper().readValue(json, NetworkConfig.class);
    } catch (IOException e) {
      throw new BadConfig("network configuration is not valid JSON: " + e.getMessage());
    }
  }
}

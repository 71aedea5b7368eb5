package org.promptdas.model.network;

/**
 * Floating-point operations of one forward pass, counted analytically from the architecture (a
 * multiply-add is 2): every matmul, attention product and convolution, and the bilinear
 * resampling at 4 multiply-adds per output value. Element-wise work (norms, activations, softmax)
 * is left out; it is small next to the products. Counts what the model needs, not what a
 * particular implementation spends.
 */
public final class Flops {
  private Flops() {}

  /** Forward FLOPs for a batch of {@code batch} crops with {@code tokens} decoder tokens each. */
  public static double forward(NetworkConfig c, int batch, int tokens) {
    double d = c.embedDim();
    double g = c.grid();
    double n = g * g;
    double p = c.patchSize();
    double s = c.posGrid();
    double enc = (c.hasStem() ? stem(c) : 2 * n * 3 * p * p * d) + 2 * n * s * s * d
        + c.depth() * (2 * n * d * 3 * d + 4 * n * n * d + 2 * n * d * d + 4 * n * d * d * c.mlpRatio());
    double t = tokens;
    double a = c.attnDim();
    double m = c.decoderMlp();
    double tokenToImage = 2 * t * d * a + 2 * 2 * n * d * a + 4 * t * n * a + 2 * t * a * d;
    double layer = (3 * 2 * t * d * a + 4 * t * t * a + 2 * t * a * d)  // self-attention
        + tokenToImage
        + 4 * t * d * m                                                // MLP
        + (2 * n * d * a + 2 * 2 * t * d * a + 4 * n * t * a + 2 * n * a * d); // image to tokens
    double dec = c.decoderDepth() * layer + tokenToImage;
    double ms = c.maskSize();
    double k = c.detChannels();
    double up = 2 * n * d * d + 2 * (4 * n) * (d / 4) * (d / 2);       // two 2x2 transposed convs
    double heads = up + 2 * ms * ms * d / 8 + 2 * 3 * d * d              // mask dot product, hypernet
        + 2 * ms * ms * (d / 8) * k * 9                                // det conv 1
        + 2 * 4 * (2 * ms) * (2 * ms) * k                              // bilinear x2
        + 2 * (2 * ms) * (2 * ms) * k * k * 9                          // det conv 2
        + 2 * (2 * ms) * (2 * ms) * k                                  // det conv 3 (1x1)
        + 3 * 2 * t * d * d;                                           // contrastive MLP
    return batch * (enc + dec + heads);
  }

  /** The convolutional stem and its skips into the mask upscaling. */
  private static double stem(NetworkConfig c) {
    double s = c.imageSize();
    double w = c.stemWidth();
    double d = c.embedDim();
    double half = s * s / 4;
    double quarter = half / 4;
    return 2 * half * 4 * 3 * 2 * w + 2 * half * 9 * 2 * (2 * w) * (2 * w)
        + 2 * quarter * 8 * w * 4 * w + 2 * quarter * 9 * 2 * (4 * w) * (4 * w)
        + 2 * quarter / 4 * 16 * w * d
        + 2 * quarter * 4 * w * d / 4 + 2 * half * 2 * w * d / 8
        + 2 * quarter * (d / 4) * (d / 4) * 9 + 2 * half * (d / 8) * (d / 8) * 9;
  }
}

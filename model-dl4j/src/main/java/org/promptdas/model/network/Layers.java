package org.promptdas.model.network;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;

/**
 * The building blocks of the graph, each written with ops whose gradients work in SameDiff M2.1:
 * linear layers as {@code mmul + add} (not {@code xw_plus_b}), layer and group norms by hand
 * (ND4J's layer norm has a fixed epsilon), exact erf GELU, attention as matrix or batched products
 * and a softmax over the keys, transposed 2x2 convolutions as one matmul, bilinear upsampling as
 * shifted copies. Row-major token matrices are [rows, features]; the detection head's feature maps
 * are channels last. Not thread-safe (it appends to a graph).
 */
final class Layers {
  private final SameDiff sd;
  private final Variables vars;
  private final boolean differentiable;

  /**
   * Layers appending to {@code sd} with weights from {@code vars}; {@code differentiable} false
   * takes ops that are faster forward but have no SameDiff M2.1 gradient, or a slow one (graphs for
   * forward passes).
   */
  Layers(SameDiff sd, Variables vars, boolean differentiable) {
    this.sd = sd;
    this.vars = vars;
    this.differentiable = differentiable;
  }

  /** x [rows, in] -> [rows, out] with the PyTorch Linear {@code name} ([out, in] weight). */
  SDVariable linear(SDVariable x, String name) {
    return linear(x, name, 0);
  }

  /**
   * {@link #linear(SDVariable, String)} of x with {@code rows} rows (0 where unknown); when the
   * output has at least {@link #BIAS_REWRITE_MIN} elements, the bias's gradient is summed as a
   * product ({@link BroadcastGradients}).
   */
  SDVariable linear(SDVariable x, String name, long rows) {
    SDVariable bias = vars.get(name + ".bias");
    long out = bias.getShape()[0];
    return addBias(sd.mmul(x, vars.get(name + ".weight"), false, true, false), bias, rows, out);
  }

  /** y [rows, n] + bias [n], recorded for {@link BroadcastGradients} from {@link #BIAS_REWRITE_MIN} elements. */
  private SDVariable addBias(SDVariable y, SDVariable bias, long rows, long n) {
    return rows * n >= BIAS_REWRITE_MIN ? BroadcastGradients.add(sd, y, 2, bias, n) : y.add(bias);
  }

  /**
   * Output size from which a linear layer's bias gradient, or a layer norm's affine gradients, are
   * rewritten: below it libnd4j's {@code add_bp} costs about what the rewrite's own ops do, above
   * it the rewrite wins (docs/performance.md).
   */
  static final long BIAS_REWRITE_MIN = 1L << 20;

  /** Normalises each row of x [rows, n] (population variance), then the affine {@code name}. */
  SDVariable layerNorm(SDVariable x, String name, double eps) {
    return layerNorm(x, name, eps, 0);
  }

  /**
   * {@link #layerNorm(SDVariable, String, double)} of x with {@code rows} rows (0 where unknown);
   * from {@link #BIAS_REWRITE_MIN} elements the affine's gradients are summed as products
   * ({@link BroadcastGradients}).
   */
  SDVariable layerNorm(SDVariable x, String name, double eps, long rows) {
    Moments m = moments(x, eps, 1);
    SDVariable normalised = scaled(m.centred(), m.invStd());
    SDVariable weight = vars.get(name + ".weight");
    SDVariable bias = vars.get(name + ".bias");
    long d = weight.getShape()[0];
    SDVariable y = rows * d >= BIAS_REWRITE_MIN ? scaled(normalised, 2, weight, d) : scaled(normalised, weight);
    return addBias(y, bias, rows, d);
  }

  /** x minus its mean over {@code axes}, and 1 / sqrt(population variance + eps) over the same axes. */
  private record Moments(SDVariable centred, SDVariable invStd) {}

  /** The moments of x over {@code axes}. */
  private Moments moments(SDVariable x, double eps, int... axes) {
    SDVariable mean = sd.mean(x, true, axes);
    SDVariable centred = x.sub(mean);
    SDVariable var = sd.mean(squared(centred), true, axes);
    return new Moments(centred, sd.math.rsqrt(var.add(eps)));
  }

  /**
   * x times s, s broadcast to x's shape, as a same-shape product: s is spread to full size by an
   * addition (whose gradient is a plain reduction), because libnd4j's {@code multiply_bp} tiles a
   * broadcast operand slowly. Graphs that are never differentiated multiply by s directly: the same
   * values, one op instead of three.
   */
  private SDVariable scaled(SDVariable x, SDVariable s) {
    return differentiable ? x.mul(sd.zerosLike(x).add(s)) : x.mul(s);
  }

  /** {@link #scaled(SDVariable, SDVariable)} for x of rank {@code rank} and s of a known shape, recorded. */
  private SDVariable scaled(SDVariable x, int rank, SDVariable s, long... sShape) {
    return differentiable ? x.mul(BroadcastGradients.add(sd, sd.zerosLike(x), rank, s, sShape)) : x.mul(s);
  }

  /**
   * x * x as a product: the gradient of {@code square} is libnd4j's slow {@code _powderivative}.
   */
  private SDVariable squared(SDVariable x) {
    return x.mul(x);
  }

  /** GELU with the exact error function, as PyTorch's default. */
  SDVariable gelu(SDVariable x) {
    return x.mul(0.5).mul(sd.math.erf(x.mul(1 / Math.sqrt(2))).add(1.0));
  }

  SDVariable relu(SDVariable x) {
    return sd.nn.relu(x, 0);
  }

  /**
   * Multi-head attention on already projected q [b, nq, dim], k, v [b, nk, dim]: heads split,
   * q scaled by head_dim^-0.5, optional additive mask [b, 1, nq or 1, nk], softmax over keys, all
   * heads in one batched product. Returns [b * nq, dim].
   */
  SDVariable heads(SDVariable q, SDVariable k, SDVariable v, int b, int nq, int nk, int dim,
      int heads, SDVariable mask) {
    int hd = dim / heads;
    SDVariable qh = sd.permute(sd.reshape(q, b, nq, heads, hd), 0, 2, 1, 3).mul(Math.pow(hd, -0.5));
    SDVariable kh = sd.permute(sd.reshape(k, b, nk, heads, hd), 0, 2, 1, 3);
    SDVariable vh = sd.permute(sd.reshape(v, b, nk, heads, hd), 0, 2, 1, 3);
    SDVariable scores = sd.mmul(qh, kh, false, true, false);
    if (mask != null) {
      scores = scores.add(mask);
    }
    SDVariable out = sd.mmul(sd.nn.softmax(scores, 3), vh);
    return sd.reshape(sd.permute(out, 0, 2, 1, 3), (long) b * nq, (long) heads * hd);
  }

  /**
   * Unmasked self-attention of n tokens per crop on y [b * n, dim] through the qkv projection
   * {@code qkv} (the PyTorch Linear giving q, k and v side by side): [b * n, dim]. Long sequences
   * (n^2 of at least {@link #MATRIX_HEADS_MIN_SCORES}) take {@link #packedHeads} on the transposed
   * projection ({@link #linearTransposed}), short ones {@link #unpackedHeads}.
   */
  SDVariable selfAttention(SDVariable y, String qkv, int b, int n, int dim, int heads) {
    long rows = (long) b * n;
    return (long) n * n >= MATRIX_HEADS_MIN_SCORES ? packedHeads(linearTransposed(y, qkv), b, n, dim, heads)
        : unpackedHeads(linear(y, qkv, rows), b, n, dim, heads);
  }

  /**
   * The Linear {@code name} of x [rows, in] transposed: W x^T + bias, [out, rows]. Each output
   * feature is a row, so any run of features (a head's q, k or v) is a block of whole rows.
   */
  SDVariable linearTransposed(SDVariable x, String name) {
    SDVariable bias = vars.get(name + ".bias");
    return sd.mmul(vars.get(name + ".weight"), x, false, true, false).add(sd.reshape(bias, bias.getShape()[0], 1));
  }

  /**
   * Score-matrix size (queries x keys) from which self-attention runs as matrix products per
   * crop and head: matrix products run oneDNN's kernel ({@link NativeHelpers}), about twice as fast
   * as libnd4j's batched matmul. Short sequences stay batched, where the extra ops would cost more
   * than the products.
   */
  static final long MATRIX_HEADS_MIN_SCORES = 1024L * 1024;

  /** {@link #selfAttention} through {@link #heads}: q, k and v sliced out, one batched product. */
  SDVariable unpackedHeads(SDVariable qkv, int b, int n, int dim, int heads) {
    SDVariable[] p = new SDVariable[3];
    for (int j = 0; j < 3; j++) {
      p[j] = sd.reshape(submatrix(qkv, 0, b * n, j * dim, dim), b, n, dim);
    }
    return heads(p[0], p[1], p[2], b, n, n, dim, heads, null);
  }

  /**
   * {@link #selfAttention} head by head in matrix products, on the transposed projection
   * qkvT [3 * dim, b * n] ({@link #linearTransposed}): each crop's and head's q, k and v are
   * transposed blocks [hd, n] of it, whole rows at batch 1 (a cheaper copy than a strided column
   * block of the untransposed projection; their gradients are joined by one concat, {@link
   * SliceGradients}). The products take the blocks as they are: scores = (q^T)^T k^T,
   * out = weights (v^T)^T, a layout in which oneDNN runs them and their gradients at least as fast.
   * oneDNN's softmax (faster than libnd4j's) takes rank 3 and up, so the scores are reshaped around
   * it: copies in differentiable graphs, views ({@link SharedViews}) in others.
   */
  SDVariable packedHeads(SDVariable qkvT, int b, int n, int dim, int heads) {
    int hd = dim / heads;
    SliceGradients.tiled(sd, qkvT, 3L * dim, (long) b * n);
    SDVariable[] crops = new SDVariable[b];
    for (int c = 0; c < b; c++) {
      SDVariable[] outs = new SDVariable[heads];
      for (int h = 0; h < heads; h++) {
        SDVariable qT = submatrix(qkvT, h * hd, hd, c * n, n).mul(Math.pow(hd, -0.5));
        SDVariable kT = submatrix(qkvT, dim + h * hd, hd, c * n, n);
        SDVariable vT = submatrix(qkvT, 2 * dim + h * hd, hd, c * n, n);
        SDVariable scores = sd.mmul(qT, kT, true, false, false);
        scores = differentiable ? SharedViews.reshape(sd, scores, true, n) : SharedViews.leadingOne(sd, scores);
        SDVariable weights = sd.nn.softmax(scores, 2);
        weights = differentiable ? SharedViews.reshape(sd, weights, false, n) : SharedViews.dropLeadingOne(sd, weights);
        outs[h] = sd.mmul(weights, vT, false, true, false);
      }
      crops[c] = sd.concat(1, outs);
    }
    return b == 1 ? crops[0] : sd.concat(0, crops);
  }

  /** Rows {@code row .. row + rows - 1} and columns {@code col .. col + cols - 1} of matrix m. */
  private SDVariable submatrix(SDVariable m, int row, int rows, int col, int cols) {
    return sd.slice(m, new int[] {row, col}, new int[] {rows, cols});
  }

  /**
   * 1x1 convolution of channels-last x [b, n, n, cin] to [b, cout, n, n] (weight YXIO
   * [1, 1, cin, cout]) as one matrix product over the channels, much faster than oneDNN's
   * convolution for the detection head's 256 -> 1 channel layer.
   */
  SDVariable conv1x1(SDVariable x, String name, int b, int cin, int cout, int n) {
    SDVariable w = sd.reshape(vars.get(name + ".weight"), cin, cout);
    SDVariable bias = vars.get(name + ".bias");
    SDVariable y = BroadcastGradients.add(sd, sd.mmul(sd.reshape(x, (long) b * n * n, cin), w), 2, bias, cout);
    return cout == 1 ? sd.reshape(y, b, 1, n, n) : sd.permute(sd.reshape(y, b, n, n, cout), 0, 3, 1, 2);
  }

  /**
   * k x k convolution (k odd) of channels-last x [b, h, w, cin] ({@code shape}), padding keeps the
   * size; PyTorch weights held as YXIO. oneDNN convolves channels-last data faster than NCHW.
   * Training graphs
   * differentiate it with {@link ConvBackward}, which needs the recorded input shape.
   */
  SDVariable conv(SDVariable x, String name, int kernel, long[] shape) {
    ConvBackward.recordInputShape(sd, name + ".weight", shape);
    return sd.cnn.conv2d(x, vars.get(name + ".weight"), vars.get(name + ".bias"), sizeKeeping(kernel));
  }

  /** The configuration of {@link #conv}: k x k, stride 1, padding k / 2, NHWC data, YXIO weights. */
  static Conv2DConfig sizeKeeping(int k) {
    return Conv2DConfig.builder().kH(k).kW(k).sH(1).sW(1).pH(k / 2).pW(k / 2).dH(1).dW(1)
        .dataFormat("NHWC").weightsFormat(WeightsFormat.YXIO).build();
  }

  /**
   * The 3x3 convolution {@code name.conv} of channels-last x [b, n, n, cin], the group norm
   * {@code name.norm} ({@link #groups} groups) and ReLU: [b, n, n, cout]. A unit of the stem, and
   * the fusion of a skip in the mask upscaling. ReLU, not GELU: at these resolutions every
   * element-wise pass over the feature maps counts, and GELU takes five.
   */
  SDVariable convNormRelu(SDVariable x, String name, int b, int n, int cin, int cout) {
    SDVariable y = conv(x, name + ".conv", 3, new long[] {b, n, n, cin});
    return relu(groupNorm(y, name + ".norm", b, cout, n, groups(cout), 1e-5));
  }

  /** Group-norm groups of {@code channels} in {@link #convNormRelu}: 8, or the largest power of 2 dividing them. */
  static int groups(int channels) {
    int g = 8;
    while (channels % g != 0) {
      g /= 2;
    }
    return g;
  }

  /**
   * A 2x2 stride-2 convolution {@code name} (YXIO weight [2, 2, cin, cout]) of channels-last
   * x [b, n, n, cin] as one product on its 2x2 blocks: [b, n/2, n/2, cout].
   */
  SDVariable merge2x2(SDVariable x, String name, int b, int n, int cin, int cout) {
    int h = n / 2;
    long rows = (long) b * h * h;
    SDVariable blocks = sd.reshape(sd.permute(sd.reshape(x, b, h, 2, h, 2, cin), 0, 1, 3, 2, 4, 5), rows, 4L * cin);
    SDVariable y = addBias(sd.mmul(blocks, sd.reshape(vars.get(name + ".weight"), 4L * cin, cout)),
        vars.get(name + ".bias"), rows, cout);
    return sd.reshape(y, b, h, h, cout);
  }

  /** ConvTranspose2d(kernel 2, stride 2) of x [b, cin, n, n] with weight [cin, cout, 2, 2]. */
  SDVariable convTranspose2x2(SDVariable x, String name, int b, int cin, int cout, int n) {
    SDVariable rows = sd.reshape(sd.permute(x, 0, 2, 3, 1), (long) b * n * n, cin);
    SDVariable w = sd.reshape(vars.get(name + ".weight"), cin, (long) cout * 4);
    SDVariable y = sd.reshape(sd.mmul(rows, w), b, n, n, cout, 2, 2);
    y = sd.reshape(sd.permute(y, 0, 3, 1, 4, 2, 5), b, cout, 2L * n, 2L * n);
    return y.add(sd.reshape(vars.get(name + ".bias"), 1, cout, 1, 1));
  }

  /** Channel-wise LayerNorm2d of x [b, c, n, n]. */
  SDVariable layerNorm2d(SDVariable x, String name, int b, int c, int n, double eps) {
    SDVariable rows = sd.reshape(sd.permute(x, 0, 2, 3, 1), (long) b * n * n, c);
    SDVariable y = layerNorm(rows, name, eps);
    return sd.permute(sd.reshape(y, b, n, n, c), 0, 3, 1, 2);
  }

  /**
   * GroupNorm of channels-last x [b, n, n, c] with {@code groups} groups and a per-channel affine,
   * without reshaping x: per-channel sums over the pixels ({@link PixelSums}) turn into each
   * channel's group mean by a [c, c] product that averages the group's channels. The per-group
   * 1 / std and the channel weight are multiplied first, so the full-size array takes one product.
   */
  SDVariable groupNorm(SDVariable x, String name, int b, int c, int n, int groups, double eps) {
    SDVariable mean = sd.reshape(groupMeans(x, b, c, n, groups), b, 1, 1, c);
    SDVariable centred = BroadcastGradients.sub(sd, x, 4, mean, b, 1, 1, c);
    SDVariable var = groupMeans(squared(centred), b, c, n, groups);
    SDVariable scale = sd.reshape(sd.math.rsqrt(var.add(eps)).mul(vars.get(name + ".weight")), b, 1, 1, c);
    return BroadcastGradients.add(sd, scaled(centred, 4, scale, b, 1, 1, c), 4,
        sd.reshape(vars.get(name + ".bias"), 1, 1, 1, c), 1, 1, 1, c);
  }

  /** Each channel's group mean of channels-last x [b, n, n, c]: [b, c]. */
  private SDVariable groupMeans(SDVariable x, int b, int c, int n, int groups) {
    int cg = c / groups;
    double[][] average = new double[c][c];
    for (int i = 0; i < c; i++) {
      for (int j = 0; j < c; j++) {
        average[i][j] = i / cg == j / cg ? 1.0 / ((double) n * n * cg) : 0;
      }
    }
    return sd.mmul(PixelSums.of(sd, x, b, n, c),
        vars.constant("group_norm.average." + n + "." + c + "." + groups, average, false));
  }

  /**
   * Bilinear x2 upsampling (align_corners false, edges clamped) of x of the given shape along two
   * of its axes ({@code (1, 2)} for [b, h, w, c] or [b, h, w]), one axis at a time: output 2i is
   * 0.25 x[i-1] + 0.75 x[i], output 2i+1 is 0.75 x[i] + 0.25 x[i+1] (shifted copies, then
   * interleaved), 6 flops per output value instead of a dense resampling matrix, and no transposes.
   * Graphs that are not differentiated use libnd4j's {@code resize_bilinear} (half-pixel centres:
   * the same values, faster) instead, which has no gradient in SameDiff M2.1.
   */
  SDVariable upsample2x(SDVariable x, long[] shape, int hAxis, int wAxis) {
    if (!differentiable && hAxis == 1 && wAxis == 2) {
      int h = 2 * (int) shape[1];
      int w = 2 * (int) shape[2];
      if (shape.length == 4) {
        return sd.image.resizeBiLinear(x, h, w, false, true);
      }
      SDVariable nhwc = sd.reshape(x, shape[0], shape[1], shape[2], 1);
      return sd.reshape(sd.image.resizeBiLinear(nhwc, h, w, false, true), shape[0], h, w);
    }
    long[] wide = shape.clone();
    wide[wAxis] *= 2;
    return upsampleAxis(upsampleAxis(x, shape, wAxis), wide, hAxis);
  }

  /** x of the given shape upsampled x2 along {@code axis}. */
  private SDVariable upsampleAxis(SDVariable x, long[] shape, int axis) {
    int n = (int) shape[axis];
    SDVariable first = part(x, shape, axis, 0, 1);
    SDVariable last = part(x, shape, axis, n - 1, 1);
    SDVariable left = n == 1 ? first : sd.concat(axis, first, part(x, shape, axis, 0, n - 1));
    SDVariable right = n == 1 ? last : sd.concat(axis, part(x, shape, axis, 1, n - 1), last);
    SDVariable mid = x.mul(0.75);
    SDVariable even = left.mul(0.25).add(mid);
    SDVariable odd = right.mul(0.25).add(mid);
    long[] out = shape.clone();
    out[axis] = 2L * n;
    return sd.reshape(sd.stack(axis + 1, even, odd), out);
  }

  /** Indices {@code from .. from + count - 1} of x (of the given shape) along {@code axis}. */
  private SDVariable part(SDVariable x, long[] shape, int axis, int from, int count) {
    int[] begin = new int[shape.length];
    int[] size = new int[shape.length];
    for (int i = 0; i < shape.length; i++) {
      size[i] = (int) shape[i];
    }
    begin[axis] = from;
    size[axis] = count;
    return sd.slice(x, begin, size);
  }
}

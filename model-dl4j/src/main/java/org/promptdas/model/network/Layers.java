package org.promptdas.model.network;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.promptdas.model.engine.GraphOps;

/**
 * The building blocks of the graph: linear layers as {@code mmul + add} (not {@code xw_plus_b}),
 * layer and group norms by hand (ND4J's layer norm has a fixed epsilon), exact erf GELU, attention
 * as matrix or batched products and a softmax over the keys, transposed 2x2 convolutions as one
 * matmul. Broadcasts, convolutions, softmaxes and upsampling go through {@link GraphOps}, whose
 * implementation decides how a differentiated or a forward-only graph runs them. Row-major token
 * matrices are [rows, features]; the detection head's feature maps are channels last. Not
 * thread-safe (it appends to a graph).
 */
final class Layers {
  private final SameDiff sd;
  private final Variables vars;
  private final GraphOps ops;

  /** Layers appending to {@code sd} with weights from {@code vars} and ops from {@code ops} (made for {@code sd}). */
  Layers(SameDiff sd, Variables vars, GraphOps ops) {
    this.sd = sd;
    this.vars = vars;
    this.ops = ops;
  }

  /** x [rows, in] -> [rows, out] with the PyTorch Linear {@code name} ([out, in] weight). */
  SDVariable linear(SDVariable x, String name) {
    return linear(x, name, 0);
  }

  /** {@link #linear(SDVariable, String)} of x with {@code rows} rows (0 where unknown). */
  SDVariable linear(SDVariable x, String name, long rows) {
    SDVariable bias = vars.get(name + ".bias");
    long out = bias.getShape()[0];
    return ops.addBias(sd.mmul(x, vars.get(name + ".weight"), false, true, false), bias, rows, out);
  }

  /** Normalises each row of x [rows, n] (population variance), then the affine {@code name}. */
  SDVariable layerNorm(SDVariable x, String name, double eps) {
    return layerNorm(x, name, eps, 0);
  }

  /** {@link #layerNorm(SDVariable, String, double)} of x with {@code rows} rows (0 where unknown). */
  SDVariable layerNorm(SDVariable x, String name, double eps, long rows) {
    Moments m = moments(x, eps, 1);
    SDVariable normalised = ops.scaled(m.centred(), m.invStd());
    SDVariable weight = vars.get(name + ".weight");
    SDVariable bias = vars.get(name + ".bias");
    long d = weight.getShape()[0];
    return ops.addBias(ops.scaleRows(normalised, weight, rows, d), bias, rows, d);
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
   * crop and head: matrix products run oneDNN's kernel ({@code Engine.withHelperPolicy}), about twice as fast
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
   * block of the untransposed projection; marked as {@link GraphOps#tiled} so that their gradients
   * are joined by one concat). The products take the blocks as they are: scores = (q^T)^T k^T,
   * out = weights (v^T)^T, a layout in which oneDNN runs them and their gradients at least as fast.
   */
  SDVariable packedHeads(SDVariable qkvT, int b, int n, int dim, int heads) {
    int hd = dim / heads;
    ops.tiled(qkvT, 3L * dim, (long) b * n);
    SDVariable[] crops = new SDVariable[b];
    for (int c = 0; c < b; c++) {
      SDVariable[] outs = new SDVariable[heads];
      for (int h = 0; h < heads; h++) {
        SDVariable qT = submatrix(qkvT, h * hd, hd, c * n, n).mul(Math.pow(hd, -0.5));
        SDVariable kT = submatrix(qkvT, dim + h * hd, hd, c * n, n);
        SDVariable vT = submatrix(qkvT, 2 * dim + h * hd, hd, c * n, n);
        SDVariable scores = sd.mmul(qT, kT, true, false, false);
        outs[h] = sd.mmul(ops.softmaxRows(scores, n), vT, false, true, false);
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
    SDVariable y = ops.broadcastAdd(sd.mmul(sd.reshape(x, (long) b * n * n, cin), w), 2, bias, cout);
    return cout == 1 ? sd.reshape(y, b, 1, n, n) : sd.permute(sd.reshape(y, b, n, n, cout), 0, 3, 1, 2);
  }

  /**
   * k x k convolution (k odd) of channels-last x [b, h, w, cin] ({@code shape}), padding keeps the
   * size; PyTorch weights held as YXIO. oneDNN convolves channels-last data faster than NCHW.
   */
  SDVariable conv(SDVariable x, String name, int kernel, long[] shape) {
    return ops.sizeKeepingConv(x, vars.get(name + ".weight"), vars.get(name + ".bias"), kernel, shape);
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
    SDVariable y = ops.addBias(sd.mmul(blocks, sd.reshape(vars.get(name + ".weight"), 4L * cin, cout)),
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
   * without reshaping x: per-channel sums over the pixels ({@link GraphOps#pixelSums}) turn into each
   * channel's group mean by a [c, c] product that averages the group's channels. The per-group
   * 1 / std and the channel weight are multiplied first, so the full-size array takes one product.
   */
  SDVariable groupNorm(SDVariable x, String name, int b, int c, int n, int groups, double eps) {
    SDVariable mean = sd.reshape(groupMeans(x, b, c, n, groups), b, 1, 1, c);
    SDVariable centred = ops.broadcastSub(x, 4, mean, b, 1, 1, c);
    SDVariable var = groupMeans(squared(centred), b, c, n, groups);
    SDVariable scale = sd.reshape(sd.math.rsqrt(var.add(eps)).mul(vars.get(name + ".weight")), b, 1, 1, c);
    return ops.broadcastAdd(ops.scaled(centred, 4, scale, b, 1, 1, c), 4,
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
    return sd.mmul(ops.pixelSums(x, b, n, c),
        vars.constant("group_norm.average." + n + "." + c + "." + groups, average, false));
  }

  /**
   * Bilinear x2 upsampling (align_corners false, edges clamped) of x of the given shape along two
   * of its axes ({@code (1, 2)} for [b, h, w, c] or [b, h, w]).
   */
  SDVariable upsample2x(SDVariable x, long[] shape, int hAxis, int wAxis) {
    return ops.upsample2x(x, shape, hAxis, wAxis);
  }
}

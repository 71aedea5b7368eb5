package org.promptdas.model.engine;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;

/**
 * {@link GraphOps} for graphs that are differentiated: every op has a gradient in SameDiff M2.1,
 * and what a rewrite of the backward graph needs is recorded (shapes for {@link ConvBackward},
 * {@link BroadcastGradients}, {@link SliceGradients}, {@link PixelSums}; reshapes for
 * {@link SharedViews}). Broadcast products are written as same-shape products (s spread by an
 * addition, whose gradient is a plain reduction) because libnd4j's {@code multiply_bp} tiles a
 * broadcast operand slowly. Bilinear upsampling is shifted copies: {@code resize_bilinear} has no
 * gradient. Not thread-safe.
 */
class TrainingOps implements GraphOps {
  /**
   * Output size from which a linear layer's bias gradient, or a layer norm's affine gradients, are
   * rewritten: below it libnd4j's {@code add_bp} costs about what the rewrite's own ops do, above
   * it the rewrite wins (docs/performance.md).
   */
  static final long BIAS_REWRITE_MIN = 1L << 20;

  final SameDiff sd;

  TrainingOps(SameDiff sd) {
    this.sd = sd;
  }

  @Override
  public SDVariable addBias(SDVariable y, SDVariable bias, long rows, long n) {
    return rows * n >= BIAS_REWRITE_MIN ? broadcastAdd(y, 2, bias, n) : y.add(bias);
  }

  @Override
  public SDVariable scaleRows(SDVariable x, SDVariable weight, long rows, long n) {
    return rows * n >= BIAS_REWRITE_MIN ? scaled(x, 2, weight, n) : scaled(x, weight);
  }

  @Override
  public SDVariable scaled(SDVariable x, SDVariable s) {
    return x.mul(sd.zerosLike(x).add(s));
  }

  @Override
  public SDVariable scaled(SDVariable x, int rank, SDVariable s, long... sShape) {
    return x.mul(broadcastAdd(sd.zerosLike(x), rank, s, sShape));
  }

  @Override
  public SDVariable broadcastAdd(SDVariable x, int rank, SDVariable y, long... yShape) {
    return BroadcastGradients.add(sd, x, rank, y, yShape);
  }

  @Override
  public SDVariable broadcastSub(SDVariable x, int rank, SDVariable y, long... yShape) {
    return BroadcastGradients.sub(sd, x, rank, y, yShape);
  }

  @Override
  public SDVariable tiled(SDVariable x, long... shape) {
    return SliceGradients.tiled(sd, x, shape);
  }

  /** Copies around the softmax (rank 3 for oneDNN's kernel), made views by {@link SharedViews#rewrite}. */
  @Override
  public SDVariable softmaxRows(SDVariable scores, long n) {
    return SharedViews.reshape(sd, sd.nn.softmax(SharedViews.reshape(sd, scores, true, n), 2), false, n);
  }

  @Override
  public SDVariable sizeKeepingConv(SDVariable x, SDVariable weight, SDVariable bias, int k, long[] shape) {
    ConvBackward.recordInputShape(sd, weight.name(), shape);
    return sd.cnn.conv2d(x, weight, bias, sizeKeeping(k));
  }

  /** The configuration of {@link #sizeKeepingConv}: k x k, stride 1, padding k / 2, NHWC data, YXIO weights. */
  static Conv2DConfig sizeKeeping(int k) {
    return Conv2DConfig.builder().kH(k).kW(k).sH(1).sW(1).pH(k / 2).pW(k / 2).dH(1).dW(1)
        .dataFormat("NHWC").weightsFormat(WeightsFormat.YXIO).build();
  }

  @Override
  public SDVariable pixelSums(SDVariable x, int b, int n, int c) {
    return PixelSums.of(sd, x, b, n, c);
  }

  /**
   * One axis at a time: output 2i is 0.25 x[i-1] + 0.75 x[i], output 2i+1 is 0.75 x[i] + 0.25
   * x[i+1] (shifted copies, then interleaved), 6 flops per output value instead of a dense
   * resampling matrix, and no transposes.
   */
  @Override
  public SDVariable upsample2x(SDVariable x, long[] shape, int hAxis, int wAxis) {
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

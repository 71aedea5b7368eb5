package org.promptdas.model.engine;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * {@link GraphOps} for graphs that are never differentiated (predictions, the mean teacher, the
 * first encoder pass of a recomputing step): broadcasts as single ops, views around the softmax
 * ({@link SharedViews}: run such graphs in an {@link Engine}), libnd4j's {@code resize_bilinear}
 * (half-pixel centres: the same values, faster; no gradient in SameDiff M2.1). The rest is
 * {@link TrainingOps}'s, whose records a forward graph simply never uses. Not thread-safe.
 */
final class ForwardOps extends TrainingOps {
  ForwardOps(SameDiff sd) {
    super(sd);
  }

  @Override
  public SDVariable addBias(SDVariable y, SDVariable bias, long rows, long n) {
    return y.add(bias);
  }

  @Override
  public SDVariable scaleRows(SDVariable x, SDVariable weight, long rows, long n) {
    return x.mul(weight);
  }

  @Override
  public SDVariable scaled(SDVariable x, SDVariable s) {
    return x.mul(s);
  }

  @Override
  public SDVariable scaled(SDVariable x, int rank, SDVariable s, long... sShape) {
    return x.mul(s);
  }

  @Override
  public SDVariable softmaxRows(SDVariable scores, long n) {
    return SharedViews.dropLeadingOne(sd, sd.nn.softmax(SharedViews.leadingOne(sd, scores), 2));
  }

  @Override
  public SDVariable upsample2x(SDVariable x, long[] shape, int hAxis, int wAxis) {
    if (hAxis != 1 || wAxis != 2) {
      return super.upsample2x(x, shape, hAxis, wAxis);
    }
    int h = 2 * (int) shape[1];
    int w = 2 * (int) shape[2];
    if (shape.length == 4) {
      return sd.image.resizeBiLinear(x, h, w, false, true);
    }
    SDVariable nhwc = sd.reshape(x, shape[0], shape[1], shape[2], 1);
    return sd.reshape(sd.image.resizeBiLinear(nhwc, h, w, false, true), shape[0], h, w);
  }
}

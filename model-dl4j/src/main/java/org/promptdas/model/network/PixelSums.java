package org.promptdas.model.network;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.impl.reduce.TensorMmul;
import org.nd4j.linalg.api.ops.impl.reduce.TensorMmulBp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-channel sums over the pixels of channels-last x [b, n, n, c], as one {@code tensormmul}
 * with an n x n ones matrix: 18.5 ms on [1, 384, 384, 256], where libnd4j's mean over the axes 1
 * and 3 of a [1, 147456, 8, 32] reshape took 60 ms, besides the reshape's 16 ms copy. libnd4j
 * M2.1's {@code tensormmul_bp} rejects these axes ("the dimensions at given axes for both input
 * arrays must be the same"), so the backward graph gets the gradient itself ({@link #rewrite}, a
 * {@link BackwardRewrites} rewrite): x's gradient is the sums' gradient [b, c] broadcast over the
 * pixels; the ones matrix, a constant, gets none. Not thread-safe.
 */
final class PixelSums {
  private static final String SHAPE_SUFFIX = "/pixel_sums_shape";

  private PixelSums() {}

  /** The sums [b, c] of x [b, n, n, c] over its pixels, recorded for {@link #rewrite}. */
  static SDVariable of(SameDiff sd, SDVariable x, int b, int n, int c) {
    // a ones matrix of its own: where two sums share one, SameDiff sums its (unused) gradients
    SDVariable ones = sd.constant(x.name() + "/pixel_sums_ones", Nd4j.ones(x.dataType(), n, n));
    BackwardRewrites.record(sd, x.name() + SHAPE_SUFFIX, b, 1, 1, c);
    return new TensorMmul(sd, ones, x, new int[][] {{0, 1}, {1, 2}}).outputVariable();
  }

  /** Replaces the {@code tensormmul_bp} of every recorded sum; returns how many. */
  static int rewrite(SameDiff grad) {
    int count = 0;
    for (SameDiffOp op : new ArrayList<>(grad.getOps().values())) {
      if (!(op.getOp() instanceof TensorMmulBp)) {
        continue;
      }
      long[] broadcast = BackwardRewrites.recorded(grad, op.getInputsToOp().get(1) + SHAPE_SUFFIX);
      List<String> onesConsumers = grad.getVariables().get(op.getOutputsOfOp().get(0)).getInputsForOp();
      if (broadcast == null || (onesConsumers != null && !onesConsumers.isEmpty())) {
        continue;
      }
      // inputs: the ones matrix, x, the sums' gradient; outputs: their gradients (the ones' unused)
      BackwardRewrites.replace(grad, op, in -> List.of(in.get(0),
          grad.zerosLike(in.get(1)).add(grad.reshape(in.get(2), broadcast))));
      count++;
    }
    return count;
  }
}

package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.TensorMmul;
import org.nd4j.linalg.api.ops.impl.reduce.TensorMmulBp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Per-channel sums over the pixels of channels-last x [b, n, n, c], as one {@code tensormmul}
 * that contracts x's leading axes (b, n, n), which lie in memory as a [b * n * n, c] matrix,
 * with a <em>selector</em> [b, n, n, b] that is 1 where the two crop indices agree and 0
 * elsewhere. libnd4j's {@code tensormmul} moves the second operand's contracted axes to the front
 * first, a copy unless they lead already; contracting only the pixel axes (1, 2) with an n x n
 * ones matrix copied x whenever b > 1; the selector avoids the copy. The selector has
 * b^2 n^2 elements, so above {@link #MAX_SELECTOR_CROPS} crops the ones matrix is kept.
 *
 * <p>libnd4j M2.1's {@code tensormmul_bp} rejects such axes ("the dimensions at given axes for
 * both input arrays must be the same"), so the backward graph gets the gradient itself
 * ({@link #rewrite}, a {@link BackwardRewrites} rewrite): x's gradient is the sums' gradient
 * [b, c] broadcast over the pixels; the selector, a constant, gets none. {@link #perCrop} sums a
 * backward graph's arrays the same way ({@link BroadcastGradients}). Not thread-safe.
 */
final class PixelSums {
  /** The most crops summed with a selector (its size grows with the square of the crop count). */
  static final int MAX_SELECTOR_CROPS = 8;
  private static final String SHAPE_SUFFIX = "/pixel_sums_shape";

  private PixelSums() {}

  /** The sums [b, c] of x [b, n, n, c] over its pixels, recorded for {@link #rewrite}. */
  static SDVariable of(SameDiff sd, SDVariable x, int b, int n, int c) {
    GraphEdits.record(sd, x.name() + SHAPE_SUFFIX, b, 1, 1, c);
    // a constant of its own: where two sums share one, SameDiff sums its (unused) gradients
    String name = x.name() + "/pixel_sums_selector";
    if (b > MAX_SELECTOR_CROPS) {
      SDVariable ones = sd.constant(name, Nd4j.ones(x.dataType(), n, n));
      return new TensorMmul(sd, ones, x, new int[][] {{0, 1}, {1, 2}}).outputVariable();
    }
    INDArray selector = Nd4j.zeros(x.dataType(), b, (long) n * n, b);
    for (int i = 0; i < b; i++) {
      selector.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.point(i)).assign(1);
    }
    return contract(sd, sd.constant(name, selector.reshape(b, n, n, b)), x, 4);
  }

  /**
   * The sums [b, t] of x [b, ..., t] (rank {@code rank}, b at most {@link #MAX_SELECTOR_CROPS})
   * over the axes between the first and the last, with a selector built from x's shape when the
   * graph runs: for graphs that are not differentiated (the selector's ops have gradients).
   */
  static SDVariable perCrop(SameDiff sd, SDVariable x, int b, int rank) {
    SDVariable shape = sd.shape(x);
    SDVariable selectorShape = sd.concat(0, sd.stridedSlice(shape, new long[] {0}, new long[] {rank - 1}, new long[] {1}),
        sd.stridedSlice(shape, new long[] {0}, new long[] {1}, new long[] {1}));
    long[] eyeShape = new long[rank];
    Arrays.fill(eyeShape, 1);
    eyeShape[0] = b;
    eyeShape[rank - 1] = b;
    SDVariable eye = sd.constant(Nd4j.eye(b).castTo(x.dataType()).reshape(eyeShape));
    return contract(sd, sd.fill(selectorShape, x.dataType(), 1.0).mul(eye), x, rank);
  }

  private static SDVariable contract(SameDiff sd, SDVariable selector, SDVariable x, int rank) {
    int[] axes = IntStream.range(0, rank - 1).toArray();
    return new TensorMmul(sd, selector, x, new int[][] {axes, axes}).outputVariable();
  }

  /** Replaces the {@code tensormmul_bp} of every recorded sum; returns how many. */
  static int rewrite(SameDiff grad) {
    int count = 0;
    for (SameDiffOp op : new ArrayList<>(grad.getOps().values())) {
      if (!(op.getOp() instanceof TensorMmulBp)) {
        continue;
      }
      long[] broadcast = GraphEdits.recorded(grad, op.getInputsToOp().get(1) + SHAPE_SUFFIX);
      List<String> onesConsumers = grad.getVariables().get(op.getOutputsOfOp().get(0)).getInputsForOp();
      if (broadcast == null || (onesConsumers != null && !onesConsumers.isEmpty())) {
        continue;
      }
      // inputs: the selector (or ones), x, the sums' gradient; outputs: their gradients (the first unused)
      GraphEdits.replace(grad, op, in -> List.of(in.get(0),
          grad.zerosLike(in.get(1)).add(grad.reshape(in.get(2), broadcast))));
      count++;
    }
    return count;
  }
}

package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.impl.reduce.TensorMmul;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.bp.AddBpOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.bp.SubBpOp;

/**
 * A {@link BackwardRewrites} rewrite: the gradient of a broadcast addition or subtraction x ± y,
 * with x of the result's shape and y of a recorded shape whose leading axes are 1 (a bias, a
 * norm's scale or shift, a group mean of one crop), sums the output gradient over those axes as a
 * matrix product with a ones array instead of libnd4j's reduction in {@code add_bp} /
 * {@code sub_bp}.
 *
 * <p>Why: libnd4j reduces over leading (outer) axes slowly (docs/performance.md). The replacement, for y of shape [1, .., 1, t...] with {@code lead} leading ones:
 * <ul>
 *   <li>dx: the output gradient itself (its consumers read it; {@code add_bp} copies it), so x
 *       must be an intermediate array, whose gradient no caller requests by name;</li>
 *   <li>dy: {@code tensormmul} of ones [d0 .. d(lead-1)] with the output gradient over those axes
 *       (its contiguous rows are a matrix as they lie: no copy), then a sum over any further axes
 *       where y is 1 (on the small result), reshaped to y's shape and negated for a
 *       subtraction.</li>
 * </ul>
 * A y of shape [b, 1, .., 1, t] with b > 1 (a group mean or scale of several crops) takes
 * {@link PixelSums#perCrop} instead. Operations are found by a recorded shape of y ({@link #add},
 * {@link #sub}); others, and a y of other shapes, keep libnd4j's op. {@link
 * TrainingOps} records only large ones (the detection head's group norms and last layer, linear layers
 * from {@link TrainingOps#BIAS_REWRITE_MIN} output elements): the replacement adds five or six ops, each with a
 * fixed cost in a SameDiff run, which outweighs libnd4j's reduction on small arrays. Gradients equal libnd4j's up to rounding ({@code
 * BroadcastGradientsTest}, {@code BackwardRewritesNetworkTest}). Not thread-safe.
 */
final class BroadcastGradients {
  private static final String SHAPE_SUFFIX = "/broadcast_shape";

  private BroadcastGradients() {}

  /**
   * x + y for x of rank {@code rank} (the result's shape) and y of shape {@code yShape}, broadcast
   * over x (NumPy's rules: trailing axes aligned); recorded for the rewrite.
   */
  static SDVariable add(SameDiff sd, SDVariable x, int rank, SDVariable y, long... yShape) {
    record(sd, x, rank, y, yShape);
    return x.add(y);
  }

  /** x - y, as {@link #add}. */
  static SDVariable sub(SameDiff sd, SDVariable x, int rank, SDVariable y, long... yShape) {
    record(sd, x, rank, y, yShape);
    return x.sub(y);
  }

  /** Records in graph {@code sd} x's rank and y's shape as [rank, yShape...] ({@link GraphEdits#record}). */
  private static void record(SameDiff sd, SDVariable x, int rank, SDVariable y, long[] yShape) {
    if (yShape.length > rank) {
      throw new IllegalArgumentException("y of rank " + yShape.length + " broadcast over rank " + rank);
    }
    long[] value = new long[yShape.length + 1];
    value[0] = rank;
    System.arraycopy(yShape, 0, value, 1, yShape.length);
    GraphEdits.record(sd, marker(x.name(), y.name()), value);
  }

  private static String marker(String x, String y) {
    return x + "/" + y + SHAPE_SUFFIX;
  }

  /** Rewrites every eligible {@code add_bp} and {@code sub_bp} of backward graph {@code grad}; returns how many. */
  static int rewrite(SameDiff grad) {
    int count = 0;
    for (SameDiffOp op : new ArrayList<>(grad.getOps().values())) {
      boolean sub = op.getOp() instanceof SubBpOp;
      if (!(op.getOp() instanceof AddBpOp) && !sub) {
        continue;
      }
      List<String> in = op.getInputsToOp();
      long[] recorded = GraphEdits.recorded(grad, marker(in.get(0), in.get(1)));
      if (recorded == null || grad.getVariable(in.get(0)).getVariableType() != VariableType.ARRAY) {
        continue; // not recorded, or x's gradient may be requested by name (dx is not a copy)
      }
      long[] yShape = Arrays.copyOfRange(recorded, 1, recorded.length);
      long[] aligned = new long[(int) recorded[0]];
      Arrays.fill(aligned, 1);
      System.arraycopy(yShape, 0, aligned, aligned.length - yShape.length, yShape.length);
      int lead = 0;
      while (lead < aligned.length - 1 && aligned[lead] == 1) {
        lead++;
      }
      if (lead > 0) {
        int leading = lead;
        GraphEdits.replace(grad, op, v -> gradients(grad, v.get(2), aligned, yShape, leading, sub));
        count++;
      } else if (perCrop(aligned)) {
        GraphEdits.replace(grad, op, v -> {
          SDVariable dy = grad.reshape(PixelSums.perCrop(grad, v.get(2), (int) aligned[0], aligned.length), yShape);
          return List.of(v.get(2), sub ? dy.neg() : dy);
        });
        count++;
      }
    }
    return count;
  }

  /** Whether y, aligned to dz's rank, is [b, 1, ..., 1, t] with 1 < b <= {@link PixelSums#MAX_SELECTOR_CROPS}. */
  private static boolean perCrop(long[] aligned) {
    if (aligned.length < 3 || aligned[0] < 2 || aligned[0] > PixelSums.MAX_SELECTOR_CROPS) {
      return false;
    }
    for (int i = 1; i < aligned.length - 1; i++) {
      if (aligned[i] != 1) {
        return false;
      }
    }
    return true;
  }

  /**
   * dx and dy for output gradient dz and y of shape {@code yShape}, which is {@code aligned} (of
   * dz's rank) with {@code lead} leading ones.
   */
  private static List<SDVariable> gradients(SameDiff sd, SDVariable dz, long[] aligned,
      long[] yShape, int lead, boolean sub) {
    int[] axes = IntStream.range(0, lead).toArray();
    SDVariable leadingShape = sd.stridedSlice(sd.shape(dz), new long[] {0}, new long[] {lead}, new long[] {1});
    SDVariable ones = sd.fill(leadingShape, dz.dataType(), 1.0);
    // not sd.tensorMmul(x, y, int[], int[]): in M2.1 it passes only the first axis of each
    SDVariable sum = new TensorMmul(sd, ones, dz, new int[][] {axes, axes}).outputVariable();
    int[] rest = IntStream.range(lead, aligned.length).filter(i -> aligned[i] == 1).map(i -> i - lead).toArray();
    if (rest.length > 0) {
      sum = sd.sum(sum, true, rest);
    }
    SDVariable dy = sd.reshape(sum, yShape);
    return List.of(dz, sub ? dy.neg() : dy);
  }
}

package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.ThresholdReluBp;

/**
 * Rewrites of a backward graph (after {@code createGradFunction}) that replace gradient ops whose
 * libnd4j kernels are slow by faster ops computing the same values, under the same output names.
 * SameDiff M2.1 copies ops into the backward graph by op name, so an op subclass with a gradient
 * of its own would be lost; editing the backward graph itself is the seam. The rewrites:
 * <ul>
 *   <li>{@link ConvBackward}: the size-keeping convolutions' {@code conv2d_bp};</li>
 *   <li>{@link BroadcastGradients}: recorded broadcast additions' and subtractions'
 *       {@code add_bp} / {@code sub_bp};</li>
 *   <li>{@link SliceGradients}: the gradient of an array cut into slices that tile it, as one
 *       {@code concat} of the slices' gradients instead of a full-size {@code slice_bp} per slice
 *       and a chain of additions;</li>
 *   <li>{@link PixelSums}: the gradient of per-channel pixel sums, which libnd4j's
 *       {@code tensormmul_bp} cannot compute for their axes, as a broadcast;</li>
 *   <li>{@link SharedViews}: the attention scores' reshapes around the softmax, and their
 *       gradients' reshapes, as views instead of copies;</li>
 *   <li>ReLU's {@code thresholdedrelu_bp} as dy * step(x): two same-shape passes, faster than
 *       libnd4j's op on large arrays.</li>
 * </ul>
 * {@link PixelSums} is required (libnd4j M2.1 rejects the op it replaces), the others are faster;
 * {@link SharedViews} makes the graph runnable only in a {@link SessionArrays} session.
 * Each is checked against the op it replaces ({@code BackwardRewritesTest}, {@code
 * ConvBackwardTest}, {@code SliceGradientsTest}). Not thread-safe.
 */
final class BackwardRewrites {
  /** Without these the backward graph cannot run. */
  static final List<Rewrite> REQUIRED = List.of(new Rewrite("pixel-sums", PixelSums::rewrite));
  /** Faster ops, copies only: the graph still runs in SameDiff's own session. */
  static final List<Rewrite> FASTER = List.of(new Rewrite("conv", ConvBackward::rewrite),
      new Rewrite("broadcast", BroadcastGradients::rewrite), new Rewrite("slices", SliceGradients::rewrite));
  /** Views instead of copies. */
  static final Rewrite VIEWS = new Rewrite("views", SharedViews::rewrite);
  /** ReLU's gradient as a product with a step. */
  static final Rewrite RELU = new Rewrite("relu", BackwardRewrites::relu);

  private BackwardRewrites() {}

  /** The rewrites of {@code mode}, in the order they run. */
  static List<Rewrite> of(Engine.Backward mode) {
    List<Rewrite> out = new ArrayList<>(REQUIRED);
    if (mode != Engine.Backward.REQUIRED) {
      out.addAll(FASTER);
      if (mode == Engine.Backward.VIEWS) {
        out.add(VIEWS);
      }
      out.add(RELU);
    }
    return out;
  }

  /** Applies the rewrites of {@code mode} to {@code grad}: how many ops each replaced, by name. */
  static Map<String, Integer> apply(SameDiff grad, Engine.Backward mode) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Rewrite r : of(mode)) {
      counts.put(r.name(), r.apply(grad));
    }
    return counts;
  }

  private static int relu(SameDiff grad) {
    int count = 0;
    for (SameDiffOp op : new ArrayList<>(grad.getOps().values())) {
      if (op.getOp() instanceof ThresholdReluBp relu) {
        double cutoff = relu.getCutoff();
        GraphEdits.replace(grad, op, in -> List.of(in.get(1).mul(grad.math.step(in.get(0), cutoff))));
        count++;
      }
    }
    return count;
  }
}

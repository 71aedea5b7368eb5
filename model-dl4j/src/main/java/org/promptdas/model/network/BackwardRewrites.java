package org.promptdas.model.network;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.ThresholdReluBp;
import org.nd4j.linalg.factory.Nd4j;

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
 * Each is checked against the op it replaces ({@code BackwardRewritesTest}, {@code
 * ConvBackwardTest}, {@code SliceGradientsTest}). Not thread-safe.
 */
public final class BackwardRewrites {
  private BackwardRewrites() {}

  /**
   * Applies every rewrite to backward graph {@code grad}, views included: the graph must then run
   * through {@link SessionArrays}. Returns how many ops were replaced.
   */
  public static int apply(SameDiff grad) {
    return apply(grad, true);
  }

  /**
   * Applies every rewrite to backward graph {@code grad}; with {@code views} also
   * {@link SharedViews#rewrite}, after which the graph must run through {@link SessionArrays} (a
   * SameDiff session of its own throws). Returns how many ops were replaced.
   */
  public static int apply(SameDiff grad, boolean views) {
    int count = required(grad) + ConvBackward.rewrite(grad) + BroadcastGradients.rewrite(grad)
        + SliceGradients.rewrite(grad) + (views ? SharedViews.rewrite(grad) : 0);
    for (SameDiffOp op : new ArrayList<>(grad.getOps().values())) {
      if (op.getOp() instanceof ThresholdReluBp relu) {
        double cutoff = relu.getCutoff();
        replace(grad, op, in -> List.of(in.get(1).mul(grad.math.step(in.get(0), cutoff))));
        count++;
      }
    }
    return count;
  }

  /**
   * Only the rewrites without which backward graph {@code grad} cannot run (libnd4j M2.1 rejects
   * the op it replaces): {@link PixelSums}. Returns how many ops were replaced.
   */
  public static int required(SameDiff grad) {
    return PixelSums.rewrite(grad);
  }

  /**
   * Records {@code values} in graph {@code sd} under {@code key}, as a constant that no run computes
   * (nothing consumes it): SameDiff knows no intermediate shapes before a run, and the rewrites need
   * them. The backward graph holds the forward graph's constants, so {@link #recorded} finds it there.
   */
  static void record(SameDiff sd, String key, long... values) {
    sd.constant(key, Nd4j.createFromArray(values));
  }

  /** The values {@link #record}ed under {@code key} in {@code graph}; null where there are none. */
  static long[] recorded(SameDiff graph, String key) {
    SDVariable v = graph.getVariable(key);
    return v == null ? null : v.getArr().toLongVector();
  }

  /** Removes {@code op} and its outputs from the graph, and it from its inputs' consumers. */
  static void remove(SameDiff grad, SameDiffOp op) {
    for (String in : op.getInputsToOp()) {
      Variable v = grad.getVariables().get(in);
      if (v != null && v.getInputsForOp() != null) {
        v.getInputsForOp().remove(op.getName());
      }
    }
    op.getOutputsOfOp().forEach(grad.getVariables()::remove);
    grad.getOps().remove(op.getName());
  }

  /**
   * Replaces {@code op} by the ops {@code build} makes from its input variables; the i-th variable
   * returned takes the name (and the consumers) of the op's i-th output. Where it is one of the
   * op's inputs, the output's consumers read that input instead, and an output nothing consumes is
   * dropped: no copy, and not {@code Identity}, which in SameDiff M2.1 aliases its input so that
   * the shared array no longer returns to the session's cache. So the caller must not alias an
   * output that may be requested by name (a trainable variable's gradient).
   */
  static void replace(SameDiff grad, SameDiffOp op, Function<List<SDVariable>, List<SDVariable>> build) {
    List<SDVariable> in = new ArrayList<>();
    op.getInputsToOp().forEach(name -> in.add(grad.getVariable(name)));
    List<String> out = new ArrayList<>(op.getOutputsOfOp());
    List<SDVariable> replacement = build.apply(in);
    if (replacement.size() != out.size()) {
      throw new IllegalStateException(op.getName() + ": " + out.size() + " outputs, "
          + replacement.size() + " replacements");
    }
    Map<String, List<String>> consumers = new LinkedHashMap<>();
    for (String o : out) {
      List<String> c = grad.getVariables().get(o).getInputsForOp();
      consumers.put(o, c == null ? new ArrayList<>() : new ArrayList<>(c));
    }
    remove(grad, op);
    for (int i = 0; i < out.size(); i++) {
      String name = replacement.get(i).name();
      String old = out.get(i);
      List<String> c = consumers.get(old);
      if (op.getInputsToOp().contains(name)) {
        for (String consumer : c) {
          grad.getOps().get(consumer).getInputsToOp().replaceAll(v -> v.equals(old) ? name : v);
          grad.getVariables().get(name).getInputsForOp().add(consumer);
        }
      } else {
        grad.renameVariable(name, old);
        grad.getVariables().get(old).setInputsForOp(c);
      }
    }
  }
}

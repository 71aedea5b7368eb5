package org.promptdas.model.network;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
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
 *   <li>ReLU's {@code thresholdedrelu_bp} as dy * step(x): 0.20 s on a 384^2 x 256 array inside
 *       the paper training step, against two same-shape passes.</li>
 * </ul>
 * Each is checked against the op it replaces ({@code BackwardRewritesTest}, {@code
 * ConvBackwardTest}). Not thread-safe.
 */
public final class BackwardRewrites {
  private BackwardRewrites() {}

  /** Applies every rewrite to backward graph {@code grad}; returns how many ops were replaced. */
  public static int apply(SameDiff grad) {
    int count = ConvBackward.rewrite(grad);
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
   * Replaces {@code op} by the ops {@code build} makes from its input variables; the i-th variable
   * returned takes the name (and the consumers) of the op's i-th output.
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
    for (String v : op.getInputsToOp()) {
      grad.getVariables().get(v).getInputsForOp().remove(op.getName());
    }
    out.forEach(grad.getVariables()::remove);
    grad.getOps().remove(op.getName());
    for (int i = 0; i < out.size(); i++) {
      grad.renameVariable(replacement.get(i).name(), out.get(i));
      grad.getVariables().get(out.get(i)).setInputsForOp(consumers.get(out.get(i)));
    }
  }
}

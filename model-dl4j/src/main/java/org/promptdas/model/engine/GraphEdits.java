package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Graph editing shared by the {@link Rewrite}s: facts recorded in a forward graph for its backward
 * graph, and replacing or removing a backward graph's ops. Not thread-safe (edits a graph).
 */
final class GraphEdits {
  private GraphEdits() {}

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

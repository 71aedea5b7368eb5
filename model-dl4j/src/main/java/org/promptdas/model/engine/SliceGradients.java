package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.shape.bp.SliceBp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;

/**
 * A {@link BackwardRewrites} rewrite: where slices of an array tile it exactly (every element in
 * one slice), the array's gradient is the slices' gradients put side by side, one {@code concat},
 * instead of what SameDiff M2.1 builds: a {@code slice_bp} per slice, each a zero array of the
 * whole array's size with the slice's gradient written in, summed by a chain of {@code add}s.
 *
 * <p>Why: {@code Layers.packedHeads} cuts each encoder block's transposed qkv projection
 * [1152, 2304] into 18 blocks (q, k and v of six heads); its backward pass made 18 full-size arrays and 17
 * full-size additions per block and training step.
 *
 * <p>The tiled array's shape is recorded when the graph is built ({@link #tiled}): SameDiff knows
 * no intermediate shapes before a run. The rewrite applies to a recorded array only when its
 * {@code slice_bp}s' slices form a grid covering it once (intervals that partition each axis,
 * every combination present exactly once) and their outputs are summed by a chain of additions
 * that nothing else reads; otherwise the graph is left as it is. The result is the chain's last
 * output, under its name. Gradients equal SameDiff's exactly, summation of zeros aside
 * ({@code SliceGradientsTest}, {@code LayersTest}). Not thread-safe.
 */
final class SliceGradients {
  private static final String SHAPE_SUFFIX = "/tile_shape";

  private SliceGradients() {}

  /** Records x's shape in graph {@code sd}, so that slices tiling x are differentiated by {@link #rewrite}; returns x. */
  static SDVariable tiled(SameDiff sd, SDVariable x, long... shape) {
    GraphEdits.record(sd, x.name() + SHAPE_SUFFIX, shape);
    return x;
  }

  /** Rewrites the gradient of every recorded array whose slices tile it; returns how many. */
  static int rewrite(SameDiff grad) {
    Map<String, List<SameDiffOp>> byArray = new LinkedHashMap<>();
    for (SameDiffOp op : grad.getOps().values()) {
      if (op.getOp() instanceof SliceBp) {
        byArray.computeIfAbsent(op.getInputsToOp().get(0), k -> new ArrayList<>()).add(op);
      }
    }
    int count = 0;
    for (Map.Entry<String, List<SameDiffOp>> e : byArray.entrySet()) {
      long[] shape = GraphEdits.recorded(grad, e.getKey() + SHAPE_SUFFIX);
      if (shape != null && e.getValue().size() > 1 && rewrite(grad, e.getValue(), shape)) {
        count++;
      }
    }
    return count;
  }

  /** One array's rewrite: false, and nothing changed, where the slices or the sum do not qualify. */
  private static boolean rewrite(SameDiff grad, List<SameDiffOp> slices, long[] shape) {
    Map<String, SameDiffOp> byOutput = new HashMap<>();
    Map<List<Long>, String> pieces = new HashMap<>(); // slice begin -> the slice's output gradient
    List<TreeSet<Long>> starts = new ArrayList<>();
    for (int a = 0; a < shape.length; a++) {
      starts.add(new TreeSet<>());
    }
    Map<List<Long>, Long> sizes = new HashMap<>(); // (axis, begin) -> size along the axis
    for (SameDiffOp op : slices) {
      long[] args = ((DynamicCustomOp) op.getOp()).iArgs();
      if (args.length != 2 * shape.length || op.getInputsToOp().size() != 2) {
        return false;
      }
      List<Long> begin = new ArrayList<>();
      for (int a = 0; a < shape.length; a++) {
        long b = args[a];
        long size = args[shape.length + a];
        begin.add(b);
        starts.get(a).add(b);
        Long known = sizes.putIfAbsent(List.of((long) a, b), size);
        if (known != null && known != size) {
          return false; // two slices start together along an axis with different sizes: no grid
        }
      }
      if (pieces.put(begin, op.getInputsToOp().get(1)) != null) {
        return false;
      }
      byOutput.put(op.getOutputsOfOp().get(0), op);
    }
    long cells = 1;
    for (int a = 0; a < shape.length; a++) {
      long next = 0;
      for (long b : starts.get(a)) {
        if (b != next) {
          return false; // a gap or an overlap along axis a
        }
        next = b + sizes.get(List.of((long) a, b));
      }
      if (next != shape[a]) {
        return false;
      }
      cells *= starts.get(a).size();
    }
    if (cells != slices.size()) {
      return false;
    }
    List<SameDiffOp> chain = additionChain(grad, byOutput.keySet());
    if (chain == null) {
      return false;
    }
    String total = chain.get(chain.size() - 1).getOutputsOfOp().get(0);
    List<String> consumers = new ArrayList<>(consumers(grad, total));
    List<List<Long>> axes = new ArrayList<>();
    starts.forEach(s -> axes.add(new ArrayList<>(s)));
    SDVariable joined = join(grad, pieces, axes, new ArrayList<>());
    slices.forEach(op -> GraphEdits.remove(grad, op));
    chain.forEach(op -> GraphEdits.remove(grad, op));
    grad.renameVariable(joined.name(), total);
    grad.getVariables().get(total).setInputsForOp(consumers);
    return true;
  }

  /**
   * The additions that sum exactly the given arrays, in execution order, the last giving the total:
   * each addition reads two arrays that are summands or earlier partial sums, and every summand and
   * partial sum but the total is read by one addition only. Null where the graph differs.
   */
  private static List<SameDiffOp> additionChain(SameDiff grad, Set<String> summands) {
    Set<String> open = new HashSet<>(summands);
    List<SameDiffOp> chain = new ArrayList<>();
    while (open.size() > 1) {
      SameDiffOp next = null;
      for (String s : open) {
        List<String> c = consumers(grad, s);
        if (c.size() != 1) {
          return null;
        }
        SameDiffOp op = grad.getOps().get(c.get(0));
        if (op.getOp() instanceof AddOp && open.containsAll(op.getInputsToOp())
            && op.getInputsToOp().size() == 2 && !op.getInputsToOp().get(0).equals(op.getInputsToOp().get(1))) {
          next = op;
          break;
        }
      }
      if (next == null) {
        return null;
      }
      open.removeAll(next.getInputsToOp());
      open.add(next.getOutputsOfOp().get(0));
      chain.add(next);
    }
    return chain;
  }

  /** The gradient pieces joined along every axis with more than one interval, first axis outermost. */
  private static SDVariable join(SameDiff grad, Map<List<Long>, String> pieces, List<List<Long>> starts, List<Long> prefix) {
    int axis = prefix.size();
    if (axis == starts.size()) {
      return grad.getVariable(pieces.get(prefix));
    }
    SDVariable[] parts = new SDVariable[starts.get(axis).size()];
    for (int i = 0; i < parts.length; i++) {
      List<Long> p = new ArrayList<>(prefix);
      p.add(starts.get(axis).get(i));
      parts[i] = join(grad, pieces, starts, p);
    }
    return parts.length == 1 ? parts[0] : grad.concat(axis, parts);
  }

  private static List<String> consumers(SameDiff grad, String variable) {
    List<String> c = grad.getVariables().get(variable).getInputsForOp();
    return c == null ? List.of() : c;
  }
}

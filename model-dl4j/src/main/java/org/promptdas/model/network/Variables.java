package org.promptdas.model.network;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The trainable variables of one graph, created on first use from {@link Weights} (in graph
 * layout, see {@link Weights#graphLayout}) or from another graph's arrays, plus named constants.
 * Not thread-safe.
 */
final class Variables {
  private final SameDiff sd;
  private final Function<String, INDArray> arrays;
  private final DataType type;
  private final Map<String, SDVariable> made = new HashMap<>();

  /** Variables holding copies of {@code weights} in {@code type}. */
  Variables(SameDiff sd, Weights weights, DataType type) {
    this(sd, n -> weights.graphArray(n, type), type);
  }

  /** Variables holding the very arrays {@code arrays} gives by name (no copies: in-place updates show). */
  Variables(SameDiff sd, Function<String, INDArray> arrays, DataType type) {
    this.sd = sd;
    this.arrays = arrays;
    this.type = type;
  }

  SDVariable get(String name) {
    return made.computeIfAbsent(name, n -> sd.var(n, arrays.apply(n)));
  }

  /** A constant matrix; {@code transposed} stores its transpose. */
  SDVariable constant(String name, double[][] m, boolean transposed) {
    return made.computeIfAbsent(name, n -> {
      INDArray a = Nd4j.createFromArray(m).castTo(type);
      return sd.constant(n, transposed ? a.transpose().dup('c') : a);
    });
  }
}

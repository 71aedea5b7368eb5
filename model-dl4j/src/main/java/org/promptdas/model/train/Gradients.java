package org.promptdas.model.train;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.model.network.BackwardRewrites;
import org.promptdas.model.network.SessionArrays;

/**
 * Gradient-graph helpers: the trainable variables of a graph, and creating the backward graph
 * without SameDiff M2.1's one stdout line per differentiated op.
 */
public final class Gradients {
  private Gradients() {}

  /**
   * The trainable variables of {@code sd} by name, in graph order (live arrays, not copies): its
   * floating-point variables (integer ones are view indices, {@code SharedViews}).
   */
  public static Map<String, INDArray> trainables(SameDiff sd) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE && v.dataType().isFPType()) {
        out.put(v.name(), v.getArr());
      }
    }
    return out;
  }

  /**
   * Builds {@code sd}'s backward graph once, with standard output silenced meanwhile, and gives its
   * slow gradient ops the faster equivalents of {@link BackwardRewrites}, views included: run it
   * through {@link SessionArrays}.
   */
  public static void prepare(SameDiff sd) {
    prepare(sd, true);
  }

  /**
   * {@link #prepare}, with copies instead of views where not {@code views}: for a backward graph
   * that SameDiff's own session runs ({@code sd.calculateGradients}), as benchmarks' baselines do.
   */
  public static synchronized void prepare(SameDiff sd, boolean views) {
    PrintStream out = System.out;
    System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    try {
      sd.createGradFunction();
      BackwardRewrites.apply(sd.getFunction(SessionArrays.GRAD_FUNCTION), views);
    } finally {
      System.setOut(out);
    }
  }
}

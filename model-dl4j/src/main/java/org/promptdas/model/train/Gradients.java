package org.promptdas.model.train;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
 * without SameDiff M2.1's one standard-output line per differentiated op.
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
   * Builds {@code sd}'s backward graph once, without SameDiff's progress lines, and gives its
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
    LineFilter filter = new LineFilter(out);
    System.setOut(new PrintStream(filter, true));
    try {
      sd.createGradFunction();
      BackwardRewrites.apply(sd.getFunction(SessionArrays.GRAD_FUNCTION), views);
    } finally {
      System.setOut(out);
      filter.flushPartialLine();
    }
  }

  /**
   * Passes standard output through line by line, except SameDiff M2.1's "Added differentiated op"
   * lines (printed with {@code System.out.println}, no logger to turn off): other threads' output
   * while a backward graph is built is kept.
   */
  static final class LineFilter extends OutputStream {
    static final String DROPPED = "Added differentiated op ";
    private final PrintStream target;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineFilter(PrintStream target) {
      this.target = target;
    }

    @Override
    public synchronized void write(int b) {
      line.write(b);
      if (b == '\n') {
        flushPartialLine();
      }
    }

    /** Writes what has been collected, unless it is a dropped line. */
    synchronized void flushPartialLine() {
      String text = line.toString(StandardCharsets.UTF_8);
      line.reset();
      if (!text.startsWith(DROPPED)) {
        target.print(text);
        target.flush();
      }
    }
  }
}

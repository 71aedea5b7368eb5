package org.promptdas.model.train;

import java.io.OutputStream;
import java.io.PrintStream;
import org.nd4j.autodiff.samediff.SameDiff;

/** Gradient-graph creation without SameDiff M2.1's one stdout line per differentiated op. */
public final class Gradients {
  private Gradients() {}

  /** Builds {@code sd}'s backward graph once, with standard output silenced meanwhile. */
  public static synchronized void prepare(SameDiff sd) {
    PrintStream out = System.out;
    System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    try {
      sd.createGradFunction();
    } finally {
      System.setOut(out);
    }
  }
}

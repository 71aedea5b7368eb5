package org.promptdas.jobs.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The yardstick of {@code bench-model}'s ratios: the GFLOP/s of a 2048^3 single-precision product
 * through both of ND4J's paths, {@code Nd4j.gemm} (BLAS) and the {@code matmul} op (oneDNN's kernel
 * in the oneDNN build), the faster of the two. On a shared VM this rate moved between 104 and 302
 * GFLOP/s within one hour, so one reading at the start of a run says little about the minutes that
 * follow; {@code bench-model} therefore samples it before every timed run. {@link #best()} is the
 * best rate seen so far (the bar's "best sgemm rate ND4J reaches in the same run"); each
 * {@link #sample} also gives the rate of that moment, to pair a run with. Holds three 16 MB
 * matrices; not thread-safe.
 */
final class SgemmRate {
  private static final int N = 2048;
  private final INDArray a = Nd4j.rand(DataType.FLOAT, N, N);
  private final INDArray b = Nd4j.rand(DataType.FLOAT, N, N);
  private final INDArray c = Nd4j.create(DataType.FLOAT, N, N);
  private double best;

  /**
   * Times {@code tries} products on each path after one untimed product on each, and returns the
   * best rate among them in GFLOP/s; raises {@link #best()} to it if higher.
   */
  double sample(int tries) {
    double fastest = Double.MAX_VALUE;
    for (int i = 0; i <= tries; i++) {
      double blas = seconds(() -> Nd4j.gemm(a, b, c, false, false, 1.0, 0.0));
      double op = seconds(() -> Nd4j.exec(DynamicCustomOp.builder("matmul").addInputs(a, b).addOutputs(c).build()));
      if (i > 0) {
        fastest = Math.min(fastest, Math.min(blas, op));
      }
    }
    double rate = 2.0 * N * N * N / fastest / 1e9;
    best = Math.max(best, rate);
    return rate;
  }

  /** The best rate any {@link #sample} has measured, in GFLOP/s (0 before the first). */
  double best() {
    return best;
  }

  private static double seconds(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return (System.nanoTime() - t0) / 1e9;
  }
}

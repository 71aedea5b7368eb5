package org.promptdas.jobs.bench;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;

/**
 * Floating-point operations one executed product op performed, from its arrays (a multiply-add is
 * 2): {@code matmul} 2 |z| k, {@code matmul_bp} twice that (both operand gradients), {@code conv2d}
 * 2 |y| kh kw cin, {@code tensordot} 2 |z| c with c the contracted size. Every other op counts 0:
 * element-wise work is measured in time, not FLOPs. What {@link OpTimes} divides by to give each
 * product type's GFLOP/s. Stateless.
 */
final class OpFlops {
  private OpFlops() {}

  /**
   * FLOPs of op {@code name} run on {@code inputs} giving {@code outputs} with integer arguments
   * {@code iArgs}; 0 for ops that are not products or when an array is missing.
   */
  static double of(String name, long[] iArgs, INDArray[] inputs, INDArray[] outputs) {
    if (inputs == null || outputs == null || outputs.length == 0 || outputs[0] == null) {
      return 0;
    }
    return switch (name) {
      case "matmul" -> inputs.length < 2 ? 0 : 2.0 * outputs[0].length() * inner(inputs[0], flag(iArgs, 0));
      case "matmul_bp" -> inputs.length < 3 ? 0 : 4.0 * inputs[2].length() * inner(inputs[0], flag(iArgs, 0));
      case "conv2d" -> inputs.length < 2 ? 0
          : 2.0 * outputs[0].length() * inputs[1].length() / outputs[0].size(nhwc(iArgs) ? -1 : 1);
      case "tensordot" -> inputs.length < 2 ? 0
          : 2.0 * outputs[0].length() * Math.sqrt((double) inputs[0].length() * inputs[1].length() / outputs[0].length());
      default -> 0;
    };
  }

  /** The same for an op as a session runs it: its integer arguments read from {@code op}. */
  static double of(String name, Object op, INDArray[] inputs, INDArray[] outputs) {
    return of(name, op instanceof CustomOp c ? c.iArgs() : new long[0], inputs, outputs);
  }

  /** The contracted size of matmul's first operand a: its last axis, or the one before if transposed. */
  private static long inner(INDArray a, boolean transposed) {
    return a.size(transposed ? -2 : -1);
  }

  private static boolean flag(long[] iArgs, int i) {
    return iArgs != null && iArgs.length > i && iArgs[i] != 0;
  }

  /** libnd4j's conv2d data format argument (index 9): 1 for NHWC, 0 or absent for NCHW. */
  private static boolean nhwc(long[] iArgs) {
    return iArgs != null && iArgs.length > 9 && iArgs[9] == 1;
  }
}

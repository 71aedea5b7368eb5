package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2DDerivative;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A {@link BackwardRewrites} rewrite: every size-keeping convolution ({@link GraphOps#sizeKeepingConv}: k x k,
 * k odd, stride 1, padding k / 2, channels last, YXIO weights) is differentiated by ops that run
 * at full speed instead of libnd4j's {@code conv2d_bp}.
 *
 * <p>Why: oneDNN's {@code conv2d_bp} at the detection head's sizes is slow and erratic (its Winograd
 * weight gradient is slow on every third call). Its parts written as other ops:
 * <ul>
 *   <li>input gradient: the same convolution of the output gradient with the kernel flipped in
 *       space and its channel axes swapped (oneDNN's forward convolution);</li>
 *   <li>weight gradient: one matrix product per kernel tap, {@code x_shifted^T . dy} (k^2 products
 *       of [cin, rows] x [rows, cout]). The shifted inputs are row ranges of the padded
 *       input flattened to [rows, cin]: with x padded by p = k / 2 (one extra row at the bottom)
 *       and dy padded with 2p zero columns and 2p + 1 zero rows to the same row width w + 2p, tap
 *       (i, j) pairs flat row r + i (w + 2p) + j of x with flat row r of dy, and every pair that
 *       wraps across a row or crop boundary meets a zero of dy;</li>
 *   <li>bias gradient: the column sums of dy as a product with a ones column (libnd4j's reduction
 *       over rows is much slower).</li>
 * </ul>
 * Convolutions are found by their weight's recorded input shape ({@link #recordInputShape}).
 * Gradients equal {@code conv2d_bp}'s up to rounding ({@code ConvBackwardTest}). Not thread-safe.
 */
final class ConvBackward {
  private static final String SHAPE_SUFFIX = "/input_shape";

  private ConvBackward() {}

  /**
   * Records in graph {@code sd} the input shape [b, h, w, cin] of the convolution with weight
   * variable {@code weight}, as a constant named {@code weight + "/input_shape"} (a run never
   * computes it: nothing consumes it). SameDiff knows no intermediate shapes before a run, and the
   * rewrite needs them to size its slices; convolutions without one keep {@code conv2d_bp}.
   */
  static void recordInputShape(SameDiff sd, String weight, long[] shape) {
    GraphEdits.record(sd, weight + SHAPE_SUFFIX, shape);
  }

  /** Rewrites every eligible {@code conv2d_bp} op of backward graph {@code grad}; returns how many. */
  static int rewrite(SameDiff grad) {
    int count = 0;
    for (SameDiffOp op : new ArrayList<>(grad.getOps().values())) {
      if (op.getOp() instanceof Conv2DDerivative d && eligible(d.getConfig(), op)) {
        long[] inShape = GraphEdits.recorded(grad, op.getInputsToOp().get(1) + SHAPE_SUFFIX);
        if (inShape != null) {
          int k = (int) d.getConfig().getKH();
          // inputs x, w, [b,] dy; outputs dx, dw[, db]
          GraphEdits.replace(grad, op, in -> gradients(grad, in.get(0), inShape, in.get(1),
              in.get(in.size() - 1), k, in.size() == 4));
          count++;
        }
      }
    }
    return count;
  }

  private static boolean eligible(Conv2DConfig c, SameDiffOp op) {
    long k = c.getKH();
    return k == c.getKW() && k % 2 == 1 && c.getSH() == 1 && c.getSW() == 1
        && c.getDH() == 1 && c.getDW() == 1 && c.getPH() == k / 2 && c.getPW() == k / 2
        && c.getPaddingMode() == PaddingMode.VALID && c.isNHWC()
        && c.getWeightsFormat() == WeightsFormat.YXIO
        && op.getInputsToOp().size() == op.getOutputsOfOp().size() + 1;
  }

  /**
   * dx, dw and, with {@code bias}, db of the convolution by w of x [b, h, w, cin] ({@code shape})
   * for output gradient dy.
   */
  private static List<SDVariable> gradients(SameDiff sd, SDVariable x, long[] shape, SDVariable w,
      SDVariable dy, int k, boolean bias) {
    int cin = (int) shape[3];
    int cout = (int) w.getShape()[3];
    int p = k / 2;
    int width = Math.toIntExact(shape[2] + 2L * p);
    int rows = Math.toIntExact(shape[0] * (shape[1] + 2L * p + 1) * width);
    int used = rows - (2 * p * width + 2 * p);
    List<SDVariable> out = new ArrayList<>();
    out.add(new Conv2D(sd, dy, flipped(sd, w, k, cin, cout), null, TrainingOps.sizeKeeping(k)).outputVariable());

    SDVariable xFlat = sd.reshape(sd.nn.pad(x, padding(sd, p, p + 1, p, p), 0), rows, cin);
    SDVariable dyFlat = sd.slice(sd.reshape(sd.nn.pad(dy, padding(sd, 0, 2 * p + 1, 0, 2 * p), 0),
        rows, cout), new int[] {0, 0}, used, cout);
    SDVariable[] taps = new SDVariable[k * k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        int t = i * k + j;
        SDVariable shifted = sd.slice(xFlat, new int[] {i * width + j, 0}, used, cin);
        if (t > 0) {
          // one shifted copy at a time: SameDiff would otherwise cut all k^2 before any product
          shifted.addControlDependency(taps[t - 1]);
        }
        taps[t] = sd.mmul(shifted, dyFlat, true, false, false);
      }
    }
    out.add(sd.reshape(sd.stack(0, taps), k, k, cin, cout));
    if (bias) {
      SDVariable ones = sd.onesLike(sd.slice(dyFlat, new int[] {0, 0}, used, 1));
      out.add(sd.reshape(sd.mmul(ones, dyFlat, true, false, false), cout));
    }
    return out;
  }

  /**
   * Kernel w [k, k, cin, cout] flipped in space with its channel axes swapped: [k, k, cout, cin].
   * The flip gathers the k^2 taps in reverse order ((i, j) to (k-1-i, k-1-j) is flat tap t to
   * k^2-1-t). Not libnd4j's {@code reverse}: in M2.1 it leaks about five times its input per call, so
   * resident memory grew with every training step.
   */
  private static SDVariable flipped(SameDiff sd, SDVariable w, int k, int cin, int cout) {
    int[] reversedTaps = new int[k * k];
    for (int t = 0; t < reversedTaps.length; t++) {
      reversedTaps[t] = reversedTaps.length - 1 - t;
    }
    SDVariable taps = sd.gather(sd.reshape(w, k * k, cin, cout), reversedTaps, 0);
    return sd.reshape(sd.permute(taps, 0, 2, 1), k, k, cout, cin);
  }

  /** Zero padding of an NHWC array: rows top and bottom, columns left and right. */
  private static SDVariable padding(SameDiff sd, int top, int bottom, int left, int right) {
    return sd.constant(Nd4j.createFromArray(new int[][] {{0, 0}, {top, bottom}, {left, right}, {0, 0}}));
  }
}

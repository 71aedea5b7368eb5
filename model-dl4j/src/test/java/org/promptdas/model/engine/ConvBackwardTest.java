package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link ConvBackward}'s rewritten backward pass gives libnd4j's {@code conv2d_bp} gradients
 * (double precision, non-square crops, several batches and kernel sizes, so a tap, a flip or a
 * wrapped row out of place shows), and the convolution ahead of the loss still gets its own; the
 * rewrite runs no {@code reverse} op (it leaks in M2.1, see {@code ConvBackward.flipped}).
 */
class ConvBackwardTest {
  @ParameterizedTest
  @CsvSource({"1, 6, 9, 3, 5, 3", "2, 7, 5, 4, 2, 3", "3, 4, 4, 2, 3, 1", "2, 8, 6, 3, 4, 5"})
  void rewrittenGradientsEqualConv2dBp(int b, int h, int w, int cin, int cout, int k) {
    Map<String, INDArray> own = run(true, b, h, w, cin, cout, k);
    Map<String, INDArray> ref = run(false, b, h, w, cin, cout, k);
    for (String name : List.of("x0", "w", "b", "w2")) {
      INDArray want = ref.get(name);
      assertArrayEquals(want.shape(), own.get(name).shape(), name + " shape");
      double err = own.get(name).sub(want).norm2Number().doubleValue() / want.norm2Number().doubleValue();
      assertEquals(0, err, 1e-12, name + " differs (relative L2)");
    }
  }

  /**
   * Gradients of sum(conv(conv(tanh(x0))) * r) for fixed random inputs: two convolutions in a row,
   * so one rewritten input gradient feeds the other's output gradient.
   */
  private static Map<String, INDArray> run(boolean rewrite, int b, int h, int w, int cin, int cout, int k) {
    Nd4j.getRandom().setSeed(7);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.math.tanh(sd.var("x0", Nd4j.randn(DataType.DOUBLE, b, h, w, cin)));
    SDVariable wt = sd.var("w", Nd4j.randn(DataType.DOUBLE, k, k, cin, cout));
    SDVariable w2 = sd.var("w2", Nd4j.randn(DataType.DOUBLE, k, k, cout, cout));
    SDVariable bias = sd.var("b", Nd4j.randn(DataType.DOUBLE, cout));
    INDArray r = Nd4j.randn(DataType.DOUBLE, b, h, w, cout);
    ConvBackward.recordInputShape(sd, "w", new long[] {b, h, w, cin});
    ConvBackward.recordInputShape(sd, "w2", new long[] {b, h, w, cout});
    SDVariable y = sd.cnn.conv2d(x, wt, bias, TrainingOps.sizeKeeping(k));
    SDVariable out = sd.cnn.conv2d(y, w2, TrainingOps.sizeKeeping(k));
    sd.setLossVariables(sd.sum("loss", out.mul(sd.constant(r))).name());
    sd.createGradFunction();
    SameDiff grad = sd.getFunction(SessionArrays.GRAD_FUNCTION);
    assertEquals(rewrite ? 2 : 0, rewrite ? ConvBackward.rewrite(grad) : 0);
    // libnd4j M2.1's reverse leaks several times its input per call: the rewrite must not use it
    assertFalse(grad.getOps().values().stream().anyMatch(op -> op.getOp().opName().equals("reverse")),
        "the backward graph runs libnd4j's leaking reverse op");
    OutAndGrad og = new SessionArrays().gradientsAndOutputs(sd, Map.of(), List.of("loss"),
        List.of("x0", "w", "b", "w2"));
    return og.getGradients();
  }
}

package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link BroadcastGradients}' gradients of recorded broadcast additions and subtractions equal
 * libnd4j's {@code add_bp} / {@code sub_bp} in double precision, for y of lower rank than x, y with
 * leading ones only, y with ones after the leading ones too, and y of one value per crop and
 * channel ([b, 1, 1, c], summed with a selector); other y without leading ones, more crops than a
 * selector takes, and x a trainable variable keep the op.
 */
class BroadcastGradientsTest {
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(new long[] {6, 10}, new long[] {10}, false, 1),
        Arguments.of(new long[] {6, 10}, new long[] {1, 10}, true, 1),
        Arguments.of(new long[] {2, 12, 3, 4}, new long[] {1, 1, 3, 4}, false, 1),
        Arguments.of(new long[] {1, 12, 3, 4}, new long[] {1, 1, 3, 1}, true, 1),
        Arguments.of(new long[] {2, 12, 3, 4}, new long[] {12, 1, 4}, true, 1),
        Arguments.of(new long[] {2, 12, 3, 4}, new long[] {2, 1, 3, 1}, true, 0),
        Arguments.of(new long[] {2, 12, 3, 4}, new long[] {2, 1, 1, 4}, true, 1),
        Arguments.of(new long[] {3, 5, 5, 4}, new long[] {3, 1, 1, 4}, false, 1),
        Arguments.of(new long[] {PixelSums.MAX_SELECTOR_CROPS + 1, 2, 2, 4},
            new long[] {PixelSums.MAX_SELECTOR_CROPS + 1, 1, 1, 4}, false, 0));
  }

  /** x a trainable variable: its gradient is requested by name, so the op stays. */
  @ParameterizedTest
  @MethodSource("cases")
  void variableXKeepsTheOp(long[] xShape, long[] yShape, boolean sub, int rewritten) {
    SameDiff sd = graph(xShape, yShape, sub, false);
    assertEquals(0, BroadcastGradients.rewrite(sd.getFunction(SessionArrays.GRAD_FUNCTION)));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void gradientsEqualLibnd4jOps(long[] xShape, long[] yShape, boolean sub, int rewritten) {
    Map<String, INDArray> own = run(xShape, yShape, sub, true, rewritten);
    Map<String, INDArray> ref = run(xShape, yShape, sub, false, 0);
    for (String v : List.of("x0", "y0")) {
      INDArray a = own.get(v);
      INDArray b = ref.get(v);
      assertArrayEquals(b.shape(), a.shape(), v + " shape");
      double err = a.sub(b).norm2Number().doubleValue() / b.norm2Number().doubleValue();
      assertTrue(err < 1e-12, v + " gradient differs: relative L2 " + err);
    }
  }

  /** Gradients of sum((2 x0 ± y0) * r) with y0 broadcast, with or without the rewrite. */
  private static Map<String, INDArray> run(long[] xShape, long[] yShape, boolean sub, boolean rewrite,
      int expectedRewrites) {
    SameDiff sd = graph(xShape, yShape, sub, true);
    if (rewrite) {
      assertEquals(expectedRewrites, BroadcastGradients.rewrite(sd.getFunction(SessionArrays.GRAD_FUNCTION)),
          "ops rewritten");
    }
    return new SessionArrays().gradientsAndOutputs(sd, Map.of(), List.of("loss"), List.of("x0", "y0"))
        .getGradients();
  }

  /** sum((x ± y0) * r), x = 2 x0 ({@code scaled}) or x0, with its backward graph. */
  private static SameDiff graph(long[] xShape, long[] yShape, boolean sub, boolean scaled) {
    Nd4j.getRandom().setSeed(11);
    SameDiff sd = SameDiff.create();
    SDVariable x0 = sd.var("x0", Nd4j.randn(DataType.DOUBLE, xShape));
    SDVariable y0 = sd.var("y0", Nd4j.randn(DataType.DOUBLE, yShape));
    SDVariable x = scaled ? x0.mul(2) : x0;
    SDVariable out = sub ? BroadcastGradients.sub(sd, x, xShape.length, y0, yShape)
        : BroadcastGradients.add(sd, x, xShape.length, y0, yShape);
    sd.setLossVariables(sd.sum("loss", out.mul(sd.constant(Nd4j.randn(DataType.DOUBLE, xShape)))).name());
    sd.createGradFunction();
    return sd;
  }
}

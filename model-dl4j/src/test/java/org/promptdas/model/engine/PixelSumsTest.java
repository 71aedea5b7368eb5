package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.TensorMmulBp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link PixelSums} equals a plain sum over the pixel axes, values and gradients, in double
 * precision, at one and three crops (a selector) and at more than it takes (a ones matrix), with
 * its backward op rewritten away.
 */
class PixelSumsTest {
  @ParameterizedTest
  @ValueSource(ints = {1, 3, PixelSums.MAX_SELECTOR_CROPS + 1}) // a selector, then a ones matrix
  void equalsTheSumOverPixelsAndItsGradient(int b) {
    Map<String, INDArray> want = run(false, b);
    Map<String, INDArray> got = run(true, b);
    for (String name : List.of("sums", "w")) {
      double err = got.get(name).sub(want.get(name)).norm2Number().doubleValue()
          / want.get(name).norm2Number().doubleValue();
      assertEquals(0, err, 1e-12, name + " differs (relative L2)");
    }
  }

  /** The sums of x = 1.5 w [b, 5, 5, 3] over the pixels and the gradient of sum(sums^2 * r) for w. */
  private static Map<String, INDArray> run(boolean pixelSums, int b) {
    Nd4j.getRandom().setSeed(7);
    SameDiff sd = SameDiff.create();
    SDVariable w = sd.var("w", Nd4j.randn(DataType.DOUBLE, b, 5, 5, 3));
    SDVariable x = w.mul(1.5);
    SDVariable sums = pixelSums ? PixelSums.of(sd, x, b, 5, 3) : sd.sum(x, 1, 2);
    SDVariable loss = sd.sum(sums.mul(sums).mul(sd.constant(Nd4j.randn(DataType.DOUBLE, b, 3))));
    sd.setLossVariables(loss.name());
    sd.createGradFunction();
    SameDiff grad = sd.getFunction(SessionArrays.GRAD_FUNCTION);
    assertEquals(pixelSums ? 1 : 0, BackwardRewrites.apply(grad, Engine.Backward.REQUIRED).get("pixel-sums"));
    assertTrue(grad.getOps().values().stream().noneMatch(op -> op.getOp() instanceof TensorMmulBp));
    Map<String, INDArray> out = new HashMap<>(new SessionArrays()
        .gradientsAndOutputs(sd, Map.of(), List.of(sums.name()), List.of("w")).getGradients());
    out.put("sums", sums.eval());
    return out;
  }
}

package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link BackwardRewrites}' ReLU gradient equals libnd4j's {@code thresholdedrelu_bp} exactly,
 * inputs at the cutoff included (both pass nothing there).
 */
class BackwardRewritesTest {
  @ParameterizedTest
  @ValueSource(doubles = {0.0, 0.3})
  void reluGradientEqualsThresholdedReluBp(double cutoff) {
    INDArray own = run(true, cutoff);
    INDArray ref = run(false, cutoff);
    assertEquals(0, own.sub(ref).amaxNumber().doubleValue(), 0.0, "x0 gradient differs");
    assertTrue(ref.amaxNumber().doubleValue() > 0, "a gradient passes at all");
  }

  /** The gradient of sum((relu(x0) + relu(2 x0)) * r) for fixed inputs, some exactly at the cutoff. */
  private static INDArray run(boolean rewrite, double cutoff) {
    Nd4j.getRandom().setSeed(3);
    INDArray x0 = Nd4j.randn(DataType.DOUBLE, 6, 10);
    for (int i = 0; i < 6; i++) {
      x0.putScalar(i, i + 2, cutoff);
    }
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.var("x0", x0);
    SDVariable out = sd.nn.relu(x, cutoff).add(sd.nn.relu(x.mul(2), cutoff));
    sd.setLossVariables(sd.sum("loss", out.mul(sd.constant(Nd4j.randn(DataType.DOUBLE, 6, 10)))).name());
    sd.createGradFunction();
    SameDiff grad = sd.getFunction(SessionArrays.GRAD_FUNCTION);
    assertEquals(rewrite ? 2 : 0, rewrite ? BackwardRewrites.apply(grad, Engine.Backward.VIEWS).get("relu") : 0);
    return new SessionArrays().gradientsAndOutputs(sd, Map.of(), List.of("loss"), List.of("x0"))
        .getGradients().get("x0");
  }
}

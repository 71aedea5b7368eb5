package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.Weights;

/**
 * The forward-only graph ({@link PromptDasGraph#buildInference}) gives the differentiable
 * graph's outputs, in double precision, at one and two crops: the upsampled mask logits and the
 * density map pass through the upsampling that the two build differently.
 */
class InferenceGraphTest {
  private static final List<String> OUTPUTS = List.of(PromptDasGraph.SEG_LOGITS,
      PromptDasGraph.SEG_LOGITS_FULL, PromptDasGraph.DET, PromptDasGraph.CONTRAST);

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void givesTheDifferentiableGraphsOutputs(int b) {
    NetworkConfig cfg = new NetworkConfig(32, 8, 32, 1, 2, 2, 4, 2, 2, 24, 8, 2);
    Weights w = Weights.initialise(cfg, 3);
    Map<String, INDArray> in = RandomInputs.of(b, 32, 4, 0, b == 1 ? new int[] {2} : new int[] {0, 4}, 32,
        DataType.DOUBLE);
    Map<String, INDArray> want = run(PromptDasGraph.build(w, b, 4, 0, DataType.DOUBLE), in);
    SameDiff inference = PromptDasGraph.buildInference(w, b, 4, 0, DataType.DOUBLE);
    assertTrue(inference.getOps().values().stream().anyMatch(op -> op.getOp().opName().equals("resize_bilinear")),
        "the inference graph resizes");
    Map<String, INDArray> got = run(inference, in);
    for (String name : OUTPUTS) {
      double err = got.get(name).sub(want.get(name)).norm2Number().doubleValue()
          / want.get(name).norm2Number().doubleValue();
      assertEquals(0, err, 1e-12, name + " differs (relative L2)");
    }
  }

  private static Map<String, INDArray> run(SameDiff sd, Map<String, INDArray> in) {
    return sd.output(in, OUTPUTS.toArray(new String[0]));
  }
}

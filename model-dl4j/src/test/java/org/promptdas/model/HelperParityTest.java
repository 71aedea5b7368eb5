package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.TokenMasks;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Gradients;

/**
 * The native build and helper policy in force ({@code Engine.describe()}) against double precision,
 * which libnd4j runs without oneDNN kernels: the three heads' outputs and every weight's gradient of
 * a loss over all three, at several input sizes, batch sizes and prompt counts. This is the test
 * that decides whether a helper-enabled build may be trusted (parity-small covers one size only).
 * Errors are L2 norms relative to each reference tensor's norm: at most 1e-4 for outputs and 1e-2
 * for gradients (float accumulation reaches 2.4e-3 here with no helpers at all; a wrong kernel is
 * off by order 1).
 */
class HelperParityTest {
  @ParameterizedTest(name = "{0} px, width {1}, batch {2}, {3} prompts")
  // 256 px: 1024 tokens, so the encoder's attention runs head by head in matrix products
  @CsvSource({"64, 96, 1, 5", "64, 48, 3, 0", "128, 96, 2, 8", "96, 48, 4, 3", "256, 48, 1, 2"})
  void floatWithHelpersMatchesDouble(int size, int width, int batch, int prompts) {
    NetworkConfig cfg = new NetworkConfig(size, 8, width, 2, 3, 4, 8, 2, 4, 128, 32, 8);
    Weights w = Weights.initialise(cfg, 7);
    int slots = 8;
    Nd4j.getRandom().setSeed(3);
    INDArray image = Nd4j.randn(DataType.DOUBLE, batch, 3, size, size);
    INDArray points = Nd4j.rand(DataType.DOUBLE, batch, slots, 2).muli(size - 1);
    int[] valid = new int[batch];
    for (int i = 0; i < batch; i++) {
      valid[i] = Math.max(0, prompts - i);
    }
    INDArray segWeight = Nd4j.randn(DataType.DOUBLE, batch, cfg.maskSize(), cfg.maskSize());
    INDArray detWeight = Nd4j.randn(DataType.DOUBLE, batch, 1, size, size);

    Run ref = run(w, DataType.DOUBLE, image, points, valid, slots, segWeight, detWeight);
    Run got = run(w, DataType.FLOAT, image, points, valid, slots, segWeight, detWeight);
    List<String> bad = new ArrayList<>();
    double worstOut = 0;
    for (String k : ref.outputs.keySet()) {
      double e = relative(got.outputs.get(k), ref.outputs.get(k), 0);
      worstOut = Math.max(worstOut, e);
      if (e > 1e-4) {
        bad.add(k + " differs by " + e + " (relative)");
      }
    }
    double worstGrad = 0;
    double largest = ref.gradients.values().stream()
        .mapToDouble(g -> g.norm2Number().doubleValue()).max().orElse(0);
    for (String k : ref.gradients.keySet()) {
      // Some gradients are exactly zero in theory (a key bias shifts every score of a query
      // equally), so each tensor's norm is floored at a thousandth of the largest gradient norm.
      double e = relative(got.gradients.get(k), ref.gradients.get(k), 1e-3 * largest);
      worstGrad = Math.max(worstGrad, e);
      if (e > 1e-2) {
        bad.add("gradient of " + k + " differs by " + e + " (relative)");
      }
    }
    System.out.printf("%s, %d px batch %d: outputs %.1e, gradients %.1e (relative)%n",
        Engine.describe(), size, batch, worstOut, worstGrad);
    assertTrue(bad.isEmpty(), String.join("\n", bad));
  }

  private record Run(Map<String, INDArray> outputs, Map<String, INDArray> gradients) {}

  private static Run run(Weights w, DataType type, INDArray image, INDArray points, int[] valid,
      int slots, INDArray segWeight, INDArray detWeight) {
    int b = valid.length;
    SameDiff sd = PromptDasGraph.build(w, b, slots, 0, type);
    SDVariable loss = sd.sum(sd.getVariable(PromptDasGraph.SEG_LOGITS).mul(sd.constant(segWeight.castTo(type))))
        .add(sd.sum(sd.getVariable(PromptDasGraph.DET).mul(sd.constant(detWeight.castTo(type)))))
        .add(sd.sum(sd.math.square(sd.getVariable(PromptDasGraph.CONTRAST))));
    sd.setLossVariables(loss.name());
    Engine.prepareGradients(sd, Engine.Backward.VIEWS);
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(PromptDasGraph.IMAGE, image.castTo(type));
    ph.put(PromptDasGraph.POINTS, points.castTo(type));
    ph.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, slots, 0, type));
    ph.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, slots, 0, type));
    Map<String, INDArray> out = new HashMap<>();
    sd.output(ph, PromptDasGraph.SEG_LOGITS, PromptDasGraph.DET, PromptDasGraph.CONTRAST)
        .forEach((k, v) -> out.put(k, v.castTo(DataType.DOUBLE)));
    Map<String, INDArray> grads = new HashMap<>();
    new Engine().gradientsAndOutputs(sd, ph, List.of(), Gradients.trainables(sd).keySet())
        .getGradients().forEach((k, v) -> grads.put(k, v.castTo(DataType.DOUBLE)));
    return new Run(out, grads);
  }

  private static double relative(INDArray got, INDArray ref, double floor) {
    double scale = Math.max(ref.norm2Number().doubleValue(), Math.max(floor, 1e-12));
    return got.sub(ref).norm2Number().doubleValue() / scale;
  }
}

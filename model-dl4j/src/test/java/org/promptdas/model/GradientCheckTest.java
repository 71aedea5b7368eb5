package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.ParamSpec;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.Weights;

/**
 * Analytic (SameDiff backprop) against central finite differences, in double precision, for the
 * whole tiny network through all three heads (mask logits, density map, contrastive embeddings),
 * with padded prompts and extra tokens ({@link FiniteDifferences}). Every trainable tensor is checked
 * at a few random entries, so every custom piece (patch embedding, bicubic position resampling, manual layer and group
 * norms, erf GELU, masked attentions, transposed convolutions as matmuls, bilinear resampling,
 * YXIO convolutions, Fourier features) has its backward pass verified; likewise the network with
 * a convolutional stem and skips (stride-2 merges as products, the stem's group norms at three
 * resolutions).
 */
class GradientCheckTest {
  @Test
  void wholeNetworkGradientsMatchFiniteDifferences() {
    check(new NetworkConfig(32, 8, 32, 1, 2, 2, 4, 2, 2, 24, 8, 2));
  }

  @Test
  void networkWithStemGradientsMatchFiniteDifferences() {
    check(new NetworkConfig(32, 8, 32, 1, 2, 2, 4, 2, 2, 24, 8, 2, 8));
  }

  private static void check(NetworkConfig cfg) {
    Weights w = Weights.initialise(cfg, 11);
    int b = 2;
    int slots = 4;
    int extras = 2;
    SameDiff sd = PromptDasGraph.build(w, b, slots, extras, DataType.DOUBLE);
    Nd4j.getRandom().setSeed(5);
    SDVariable loss = sd.sum(sd.getVariable(PromptDasGraph.SEG_LOGITS)
            .mul(sd.constant(Nd4j.randn(DataType.DOUBLE, b, 16, 16))))
        .add(sd.sum(sd.getVariable(PromptDasGraph.DET)
            .mul(sd.constant(Nd4j.randn(DataType.DOUBLE, b, 1, 32, 32)))))
        .add(sd.sum(sd.getVariable(PromptDasGraph.CONTRAST)
            .mul(sd.constant(Nd4j.randn(DataType.DOUBLE, b, 1 + slots + extras, 32)))));
    String lossName = loss.name();
    sd.setLossVariables(lossName);
    Map<String, INDArray> ph = RandomInputs.of(b, 32, slots, extras, new int[] {2, 4}, 32, DataType.DOUBLE);

    FiniteDifferences.Result r = FiniteDifferences.check(sd, ph, lossName, 3, 1);
    assertEquals(ParamSpec.of(cfg).size(), r.tensors(), "every tensor is a graph variable");
    System.out.println("gradient check: " + r.checked() + " entries of " + r.tensors()
        + " tensors, " + r.failures().size() + " failures");
    assertTrue(r.failures().isEmpty(), String.join("\n", r.failures()));
  }
}

package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Gradients;

/**
 * The whole tiny network's gradients through {@link BackwardRewrites} equal those of SameDiff's
 * own backward graph in double precision, at batch 1, where every rewrite applies (the
 * convolutions, the ReLUs, and all of the detection head's broadcast additions and
 * subtractions: at larger batches the group norms' per-crop statistics keep libnd4j's ops).
 * SameDiff's own graph gets only {@link BackwardRewrites#required} (the group norms' pixel sums,
 * whose libnd4j gradient op fails; checked on its own by {@code PixelSumsTest} and, with the rest
 * of the network, by {@code GradientCheckTest}'s finite differences).
 */
class BackwardRewritesNetworkTest {
  @Test
  void rewrittenGradientsEqualSameDiffsOwn() {
    compare(new NetworkConfig(32, 8, 32, 1, 2, 2, 4, 2, 2, 24, 8, 2));
  }

  /** The stem's convolutions and group norms through the same rewrites. */
  @Test
  void rewrittenGradientsEqualSameDiffsOwnWithStem() {
    compare(new NetworkConfig(32, 8, 48, 1, 2, 2, 4, 2, 2, 24, 8, 2, 16));
  }

  private static void compare(NetworkConfig cfg) {
    Map<String, INDArray> own = gradients(cfg, true);
    Map<String, INDArray> ref = gradients(cfg, false);
    // the attention key biases' gradients are zero up to rounding (softmax ignores a constant per
    // query), so errors are relative to at least a millionth of the largest gradient
    double floor = 1e-6 * ref.values().stream().mapToDouble(g -> g.norm2Number().doubleValue()).max().orElseThrow();
    List<String> bad = new ArrayList<>();
    for (Map.Entry<String, INDArray> e : ref.entrySet()) {
      INDArray got = own.get(e.getKey());
      double norm = e.getValue().norm2Number().doubleValue();
      double err = got.sub(e.getValue()).norm2Number().doubleValue() / Math.max(norm, floor);
      if (!(err < 1e-10)) {
        bad.add(e.getKey() + ": relative L2 " + err);
      }
    }
    assertTrue(bad.isEmpty(), String.join("\n", bad));
  }

  private static Map<String, INDArray> gradients(NetworkConfig cfg, boolean rewrite) {
    int slots = 4;
    int extras = 2;
    SameDiff sd = PromptDasGraph.build(Weights.initialise(cfg, 11), 1, slots, extras, DataType.DOUBLE);
    Nd4j.getRandom().setSeed(5);
    SDVariable loss = sd.sum(sd.getVariable(PromptDasGraph.SEG_LOGITS)
            .mul(sd.constant(Nd4j.randn(DataType.DOUBLE, 1, 16, 16))))
        .add(sd.sum(sd.getVariable(PromptDasGraph.DET)
            .mul(sd.constant(Nd4j.randn(DataType.DOUBLE, 1, 1, 32, 32)))))
        .add(sd.sum(sd.getVariable(PromptDasGraph.CONTRAST)
            .mul(sd.constant(Nd4j.randn(DataType.DOUBLE, 1, 1 + slots + extras, cfg.embedDim())))));
    sd.setLossVariables(loss.name());
    // two group norms' two pixel sums each; with the rest: their mean, scale and shift, the last
    // layer's bias, then convolutions and ReLUs
    int rewritten = Engine.prepareGradients(sd, rewrite ? Engine.Backward.VIEWS : Engine.Backward.REQUIRED)
        .values().stream().mapToInt(Integer::intValue).sum();
    assertTrue(rewritten >= (rewrite ? 11 : 4), rewritten + " ops rewritten");
    Map<String, INDArray> ph = RandomInputs.of(1, 32, slots, extras, new int[] {3}, 32, DataType.DOUBLE);
    List<String> names = new ArrayList<>(Gradients.trainables(sd).keySet());
    return new Engine().gradientsAndOutputs(sd, ph, List.of(loss.name()), names).getGradients();
  }
}

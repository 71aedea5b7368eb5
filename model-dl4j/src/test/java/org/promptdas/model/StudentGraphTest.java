package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.StudentGraph;

/**
 * Encoder recomputation gives the single graph's loss and gradients: a three-block network, batch
 * 2, a loss over all three heads, every trainable variable compared (relative L2 within 1e-5, far
 * below the order-1 error of a dropped or misrouted gradient), after an in-place update of the
 * weights (which the forward-only block graphs must share).
 */
class StudentGraphTest {
  private static final String LOSS = "test_loss";

  @Test
  void autoRecomputesOnlyLongEncoders() {
    assertTrue(StudentGraph.recomputePays(NetworkConfig.paper()), "2304 tokens");
    assertFalse(StudentGraph.recomputePays(NetworkConfig.small()), "256 tokens");
    assertFalse(StudentGraph.recomputePays(NetworkConfig.tiny()), "64 tokens");
  }

  @Test
  void settingsReadAsTrainAndTheBenchmarksMeanThem() {
    assertTrue(StudentGraph.recompute("auto", NetworkConfig.paper()));
    assertFalse(StudentGraph.recompute(" AUTO ", NetworkConfig.small()));
    assertTrue(StudentGraph.recompute("True", NetworkConfig.tiny()));
    assertFalse(StudentGraph.recompute("false", NetworkConfig.paper()));
    PromptDasException.BadInput e = assertThrows(PromptDasException.BadInput.class,
        () -> StudentGraph.recompute("sometimes", NetworkConfig.paper()));
    assertTrue(e.getMessage().contains("'sometimes'"), e.getMessage());
  }

  @Test
  void recomputingTheEncoderGivesTheSameGradients() {
    NetworkConfig cfg = new NetworkConfig(64, 8, 48, 3, 3, 2, 8, 2, 4, 64, 16, 4);
    Weights w = Weights.initialise(cfg, 11);
    int batch = 2;
    int slots = 4;
    Nd4j.getRandom().setSeed(5);
    Map<String, INDArray> ph = RandomInputs.of(batch, 64, slots, 0, new int[] {3, 1}, 63, DataType.FLOAT);
    INDArray segTarget = Nd4j.rand(DataType.FLOAT, batch, cfg.maskSize(), cfg.maskSize());
    INDArray detTarget = Nd4j.rand(DataType.FLOAT, batch, 1, 64, 64);

    StudentGraph single = StudentGraph.build(w, batch, slots, 0, false);
    StudentGraph parts = StudentGraph.build(w, batch, slots, 0, true);
    // an in-place update, as the optimiser makes, reaches every graph that reads the weights
    Map<String, INDArray> partsWeights = parts.trainables();
    single.trainables().forEach((k, a) -> {
      INDArray step = Nd4j.randn(DataType.FLOAT, a.shape()).muli(0.05);
      a.addi(step);
      partsWeights.get(k).addi(step);
    });
    OutAndGrad whole = run(single, ph, segTarget, detTarget);
    OutAndGrad recomputed = run(parts, ph, segTarget, detTarget);

    assertEquals(whole.getOutputs().get(LOSS).getDouble(0), recomputed.getOutputs().get(LOSS).getDouble(0), 1e-6);
    assertEquals(StudentGraph.build(w, batch, slots, 0, false).trainables().keySet(), parts.trainables().keySet());
    assertEquals(whole.getGradients().keySet(), recomputed.getGradients().keySet());
    assertTrue(whole.getGradients().containsKey("image_encoder.blocks.0.attn.qkv.weight"));
    assertTrue(whole.getGradients().containsKey("image_encoder.patch_embed.proj.weight"));
    List<String> bad = new ArrayList<>();
    whole.getGradients().forEach((k, g) -> {
      double e = g.sub(recomputed.getGradients().get(k)).norm2Number().doubleValue()
          / Math.max(1e-30, g.norm2Number().doubleValue());
      if (!(e <= 1e-5)) {
        bad.add(k + ": " + e);
      }
    });
    assertTrue(bad.isEmpty(), "gradients differ: " + bad);
  }

  private static OutAndGrad run(StudentGraph g, Map<String, INDArray> ph, INDArray segTarget,
      INDArray detTarget) {
    SameDiff sd = g.head();
    SDVariable loss = sd.mean(sd.math.square(sd.getVariable(PromptDasGraph.SEG_LOGITS).sub(sd.constant(segTarget))))
        .add(sd.mean(sd.math.square(sd.getVariable(PromptDasGraph.DET).sub(sd.constant(detTarget)))))
        .add(sd.mean(sd.math.square(sd.getVariable(PromptDasGraph.CONTRAST))));
    sd.updateVariableNameAndReference(loss, LOSS);
    sd.setLossVariables(LOSS);
    g.prepare();
    return g.gradientsAndOutputs(new Engine(), ph, List.of(LOSS));
  }
}

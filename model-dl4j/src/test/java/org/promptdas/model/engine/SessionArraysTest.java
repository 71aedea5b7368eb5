package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.promptdas.core.PromptDasException;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.model.RandomInputs;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Gradients;

/**
 * The session cache's size switch (its default and the error a bad value gives), and gradients
 * computed with array release on: equal to SameDiff's own method (release off) on every run, also
 * once the backward pass draws its arrays from a cache filled by earlier runs and by another graph;
 * backward graphs with views run only here, with copies anywhere.
 */
class SessionArraysTest {
  @Test
  void gradientsWithArrayReleaseEqualSameDiffsOwn() {
    NetworkConfig cfg = new NetworkConfig(64, 8, 48, 2, 3, 2, 8, 2, 4, 64, 16, 4);
    Weights w = Weights.initialise(cfg, 2);
    int b = 2;
    int slots = 4;
    SameDiff sd = PromptDasGraph.build(w, b, slots, 0, DataType.FLOAT);
    SameDiff other = PromptDasGraph.build(w, 1, slots, 0, DataType.FLOAT);
    String loss = sd.sum(sd.math.square(sd.getVariable(PromptDasGraph.SEG_LOGITS)))
        .add(sd.sum(sd.getVariable(PromptDasGraph.DET))).add(sd.sum(sd.getVariable(PromptDasGraph.CONTRAST))).name();
    sd.setLossVariables(loss);
    Engine.prepareGradients(sd, Engine.Backward.VIEWS);
    List<String> names = new ArrayList<>(Gradients.trainables(sd).keySet());
    SessionArrays arrays = new SessionArrays();
    for (int run = 0; run < 3; run++) {
      Nd4j.getRandom().setSeed(run);
      Map<String, INDArray> ph = RandomInputs.of(b, 64, slots, 0, new int[] {run % 5, 2}, 63, DataType.FLOAT);
      OutAndGrad ref = sd.calculateGradientsAndOutputs(ph, List.of(loss), names);
      OutAndGrad got = arrays.gradientsAndOutputs(sd, ph, List.of(loss), names);
      assertEquals(ref.getOutputs().get(loss), got.getOutputs().get(loss), "run " + run);
      assertEquals(names.size(), got.getGradients().size());
      for (String n : names) {
        assertEquals(ref.getGradients().get(n), got.getGradients().get(n), n + ", run " + run);
      }
      Map<String, INDArray> one = new HashMap<>();
      ph.forEach((k, v) -> one.put(k, v.get(NDArrayIndex.interval(0, 1))));
      arrays.output(other, one, PromptDasGraph.SEG_LOGITS, PromptDasGraph.DET); // fills the cache with other shapes
    }
  }

  /**
   * A backward graph with views (a 256 px network: 1024 tokens, so the attention runs head by head)
   * refuses SameDiff's own session; prepared with copies instead it runs there, and gives the
   * gradients the views give through this class.
   */
  @Test
  void viewsNeedSessionArraysAndCopiesRunAnywhereWithTheSameGradients() {
    NetworkConfig cfg = new NetworkConfig(256, 8, 48, 1, 3, 4, 8, 2, 4, 128, 32, 8);
    Weights w = Weights.initialise(cfg, 4);
    Nd4j.getRandom().setSeed(8);
    Map<String, INDArray> ph = RandomInputs.of(1, 256, 4, 0, new int[] {2}, 255, DataType.FLOAT);
    SameDiff views = lossGraph(w);
    Engine.prepareGradients(views, Engine.Backward.VIEWS);
    SameDiff copies = lossGraph(w);
    Engine.prepareGradients(copies, Engine.Backward.COPIES);
    List<String> names = new ArrayList<>(Gradients.trainables(views).keySet());
    assertThrows(PromptDasException.class, () -> views.calculateGradients(ph, names));
    Map<String, INDArray> want = new SessionArrays().gradientsAndOutputs(views, ph, List.of(), names).getGradients();
    Map<String, INDArray> got = copies.calculateGradients(ph, names);
    for (String n : names) {
      assertEquals(want.get(n), got.get(n), n);
    }
  }

  private static SameDiff lossGraph(Weights w) {
    SameDiff sd = PromptDasGraph.build(w, 1, 4, 0, DataType.FLOAT);
    sd.setLossVariables(sd.sum(sd.math.square(sd.getVariable(PromptDasGraph.SEG_LOGITS)))
        .add(sd.sum(sd.getVariable(PromptDasGraph.DET))).name());
    return sd;
  }

  @AfterEach
  void clear() {
    System.clearProperty(SessionArrays.CACHE_FRACTION);
  }

  @Test
  void theCacheFractionDefaultsToThreeQuartersAndTakesAFraction() {
    assertEquals(0.75, SessionArrays.cacheFraction());
    System.setProperty(SessionArrays.CACHE_FRACTION, "0.25");
    assertEquals(0.25, SessionArrays.cacheFraction());
  }

  @Test
  void aBadCacheFractionNamesTheSwitch() {
    for (String bad : new String[] {"1.5", "0", "half"}) {
      System.setProperty(SessionArrays.CACHE_FRACTION, bad);
      BadInput e = assertThrows(BadInput.class, SessionArrays::cacheFraction);
      assertTrue(e.getMessage().contains("-Dpromptdas.session-cache=" + bad), e.getMessage());
    }
  }
}

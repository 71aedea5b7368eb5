package org.promptdas.model;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.TokenMasks;

/**
 * A network's placeholders for tests: a standard-normal image, uniform points in [0, pointScale)
 * (drawn from ND4J's generator in that order) and the token masks of {@code valid} prompts per crop.
 */
public final class RandomInputs {
  private RandomInputs() {}

  public static Map<String, INDArray> of(int batch, int size, int slots, int extras, int[] valid,
      double pointScale, DataType type) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(PromptDasGraph.IMAGE, Nd4j.randn(type, batch, 3, size, size));
    ph.put(PromptDasGraph.POINTS, Nd4j.rand(type, batch, slots + extras, 2).muli(pointScale));
    ph.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, slots, extras, type));
    ph.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, slots, extras, type));
    return ph;
  }
}

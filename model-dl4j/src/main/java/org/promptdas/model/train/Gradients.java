package org.promptdas.model.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The trainable variables of a graph. */
public final class Gradients {
  private Gradients() {}

  /**
   * The trainable variables of {@code sd} by name, in graph order (live arrays, not copies): its
   * floating-point variables (integer ones are the engine's view indices).
   */
  public static Map<String, INDArray> trainables(SameDiff sd) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE && v.dataType().isFPType()) {
        out.put(v.name(), v.getArr());
      }
    }
    return out;
  }
}

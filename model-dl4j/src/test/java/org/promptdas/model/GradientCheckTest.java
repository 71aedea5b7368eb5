package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.ParamSpec;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.TokenMasks;
import org.promptdas.model.network.Weights;

/**
 * Analytic (SameDiff backprop) against central finite differences, in double precision, for the
 * whole tiny network through all three heads (mask logits, density map, contrastive embeddings),
 * with padded prompts and extra tokens. Every trainable tensor is checked at a few random entries,
 * so every custom piece (patch embedding, bicubic position resampling, manual layer and group
 * norms, erf GELU, masked attentions, transposed convolutions as matmuls, bilinear resampling,
 * YXIO convolutions, Fourier features) has its backward pass verified.
 */
class GradientCheckTest {
  private static final double EPS = 1e-6;

  @Test
  void wholeNetworkGradientsMatchFiniteDifferences() {
    NetworkConfig cfg = new NetworkConfig(32, 8, 32, 1, 2, 2, 4, 2, 2, 24, 8, 2);
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
    int[] valid = {2, 4};
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(PromptDasGraph.IMAGE, Nd4j.randn(DataType.DOUBLE, b, 3, 32, 32));
    ph.put(PromptDasGraph.POINTS, Nd4j.rand(DataType.DOUBLE, b, slots + extras, 2).muli(32));
    ph.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, slots, extras, DataType.DOUBLE));
    ph.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, slots, extras, DataType.DOUBLE));

    List<String> params = new ArrayList<>();
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE) {
        params.add(v.name());
      }
    }
    assertEquals(ParamSpec.of(cfg).size(), params.size(), "every tensor is a graph variable");
    Map<String, INDArray> grads = sd.calculateGradients(ph, params);
    SplittableRandom r = new SplittableRandom(1);
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (String p : params) {
      INDArray arr = sd.getVariable(p).getArr();
      INDArray flat = arr.reshape(arr.length());
      for (int k = 0; k < 3; k++) {
        long i = r.nextLong(arr.length());
        double analytic = grads.get(p).reshape(arr.length()).getDouble(i);
        double numeric = centralDifference(sd, ph, lossName, flat, i, EPS);
        if (!close(analytic, numeric, 1e-7)) {
          // A step can straddle a ReLU kink (a bias before a group norm moves a whole channel);
          // such an artefact shrinks with the step, a wrong gradient does not.
          double fine = centralDifference(sd, ph, lossName, flat, i, EPS / 100);
          if (!close(analytic, fine, 1e-5)) {
            failures.add(p + "[" + i + "]: analytic " + analytic + ", numeric " + numeric + " / " + fine);
          }
        }
        checked++;
      }
    }
    System.out.println("gradient check: " + checked + " entries of " + params.size()
        + " tensors, " + failures.size() + " failures");
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  private static double centralDifference(SameDiff sd, Map<String, INDArray> ph, String loss,
      INDArray flat, long i, double eps) {
    double orig = flat.getDouble(i);
    flat.putScalar(i, orig + eps);
    double up = sd.output(ph, loss).get(loss).getDouble(0);
    flat.putScalar(i, orig - eps);
    double down = sd.output(ph, loss).get(loss).getDouble(0);
    flat.putScalar(i, orig);
    return (up - down) / (2 * eps);
  }

  private static boolean close(double analytic, double numeric, double absTol) {
    double diff = Math.abs(numeric - analytic);
    return diff <= absTol || diff / (Math.abs(numeric) + Math.abs(analytic)) <= 1e-4;
  }
}

package org.promptdas.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.train.Gradients;

/**
 * Checks the analytic gradients of a graph's loss, as training computes them (in an {@link org.promptdas.model.engine.Engine}), against central finite differences at a
 * few random entries of every trainable variable (double precision graphs). An entry that
 * disagrees at step 1e-6 is re-checked at 1e-8: a step can straddle a ReLU kink (a bias before a
 * group norm moves a whole channel), an artefact that shrinks with the step, unlike a wrong gradient.
 */
final class FiniteDifferences {
  private FiniteDifferences() {}

  /** Failure descriptions (empty when every checked entry agrees) and the number checked. */
  record Result(List<String> failures, int checked, int tensors) {}

  static Result check(SameDiff sd, Map<String, INDArray> ph, String loss, int perTensor, long seed) {
    List<String> params = new ArrayList<>(Gradients.trainables(sd).keySet());
    Engine.prepareGradients(sd, Engine.Backward.VIEWS);
    Map<String, INDArray> grads = new Engine().gradientsAndOutputs(sd, ph, List.of(loss), params)
        .getGradients();
    SplittableRandom r = new SplittableRandom(seed);
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (String p : params) {
      INDArray arr = sd.getVariable(p).getArr();
      INDArray flat = arr.reshape(arr.length());
      for (int k = 0; k < perTensor; k++) {
        long i = r.nextLong(arr.length());
        double analytic = grads.get(p).reshape(arr.length()).getDouble(i);
        double numeric = central(sd, ph, loss, flat, i, 1e-6);
        if (!close(analytic, numeric, 1e-7)) {
          double fine = central(sd, ph, loss, flat, i, 1e-8);
          if (!close(analytic, fine, 1e-5)) {
            failures.add(p + "[" + i + "]: analytic " + analytic + ", numeric " + numeric + " / " + fine);
          }
        }
        checked++;
      }
    }
    return new Result(failures, checked, params.size());
  }

  private static double central(SameDiff sd, Map<String, INDArray> ph, String loss, INDArray flat,
      long i, double eps) {
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

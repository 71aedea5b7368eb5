package org.promptdas.model.train;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.nd4j.linalg.api.blas.Level1;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * AdamW (decoupled weight decay, Loshchilov and Hutter) over named parameters, updating them in
 * place: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr (m^ / (sqrt(v^) + eps) + wd p)
 * with bias-corrected m^ and v^. The moments are kept per parameter name. Each parameter takes
 * three passes: libnd4j's fused Adam op (moments in place, the step into one scratch buffer),
 * the decay, and the step, without temporary arrays (which cost the paper network's step
 * seconds and slowed the next gradient pass). The decay applies to the parameters a predicate names (DINO and SAM exempt norms,
 * biases, position embeddings and tokens). Not thread-safe.
 */
public final class AdamW {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final Predicate<String> decays;
  private final Map<String, INDArray> m = new HashMap<>();
  private final Map<String, INDArray> v = new HashMap<>();
  private long step;
  private INDArray scratch;

  /** AdamW decaying the parameters whose names {@code decays} accepts by {@code weightDecay}. */
  public AdamW(double beta1, double beta2, double eps, double weightDecay, Predicate<String> decays) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.decays = decays;
  }

  /** PyTorch's defaults (0.9, 0.999, 1e-8, weight decay 0.01 on every parameter). */
  public static AdamW defaults() {
    return new AdamW(0.9, 0.999, 1e-8, 0.01, name -> true);
  }

  public long steps() {
    return step;
  }

  /** First moments by parameter name (live, for checkpoints). */
  public Map<String, INDArray> firstMoments() {
    return m;
  }

  /** Second moments by parameter name (live, for checkpoints). */
  public Map<String, INDArray> secondMoments() {
    return v;
  }

  /** Restores a checkpointed state: the update count and copies of the moments. */
  public void restore(long steps, Map<String, INDArray> first, Map<String, INDArray> second) {
    step = steps;
    m.clear();
    v.clear();
    first.forEach((k, a) -> m.put(k, a.dup()));
    second.forEach((k, a) -> v.put(k, a.dup()));
  }

  /** One update of every parameter in {@code params} with its gradient in {@code grads}. */
  public void update(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
    step++;
    // libnd4j's fused step: u = lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps'), i.e. eps'
    // before v's bias correction; PyTorch adds eps after it, which is eps' = eps sqrt(1 - b2^t)
    double fusedEps = eps * Math.sqrt(1 - Math.pow(beta2, step));
    Level1 blas = Nd4j.getBlasWrapper().level1();
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      INDArray p = e.getValue();
      INDArray g = grads.get(e.getKey());
      if (g == null) {
        throw new IllegalArgumentException("no gradient for " + e.getKey());
      }
      INDArray mi = m.computeIfAbsent(e.getKey(), k -> p.ulike().assign(0));
      INDArray vi = v.computeIfAbsent(e.getKey(), k -> p.ulike().assign(0));
      INDArray u = scratch(p);
      Nd4j.exec(new AdamUpdater(g, vi, mi, u, vi, mi, lr, beta1, beta2, fusedEps, (int) (step - 1)));
      double wd = decays.test(e.getKey()) ? weightDecay : 0;
      blas.axpy(p.length(), -1, u, wd == 0 ? p : p.muli(1 - lr * wd));   // p = (1 - lr wd) p - u
    }
  }

  /** A view of the scratch buffer shaped like p (the buffer grows to the largest parameter). */
  private INDArray scratch(INDArray p) {
    if (scratch == null || scratch.length() < p.length() || scratch.dataType() != p.dataType()) {
      scratch = Nd4j.create(p.dataType(), Math.max(p.length(), scratch == null ? 0 : scratch.length()));
    }
    return scratch.get(NDArrayIndex.interval(0, p.length())).reshape(p.shape());
  }
}

package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException;

/**
 * Runs graphs in a fresh SameDiff session each time, all drawing from one array cache per owner
 * (a model, a trainer). SameDiff M2.1 keeps a session per graph and thread, each with an array
 * cache of its own (up to a quarter of JavaCPP's {@code maxbytes}), and a kept session holds its
 * arrays between runs, so resident memory grew with every (batch size, prompt-slot count) graph.
 * Fresh sessions alone keep memory flat but allocate every array anew; fresh sessions over one
 * shared cache keep it flat at full speed (docs/performance.md).
 *
 * <p>The cache is a {@link BufferCache}, which reuses a buffer for any shape of the same length
 * (faster and smaller than SameDiff's exact-shape cache). It may hold three quarters of JavaCPP's {@code maxbytes}
 * (SameDiff's default is a quarter; set another fraction with
 * {@code -Dpromptdas.session-cache=0.5}). Buffers it cannot keep are freed and the next run
 * page-faults them in afresh, usually within the same step, so a smaller share costs time and
 * saves no peak memory. Only what a run allocates is
 * cached, so small networks use far less.
 *
 * <p>Not thread-safe: the graphs sharing one instance must run one at a time (callers synchronise).
 *
 * <pre>{@code
 * SessionArrays arrays = new SessionArrays();
 * Map<String, INDArray> out = arrays.output(sd, placeholders, "seg_logits");
 * OutAndGrad og = arrays.gradientsAndOutputs(sd, placeholders, List.of("loss"), weightNames);
 * }</pre>
 */
final class SessionArrays {
  /** The name SameDiff files its backward graph under ({@code SameDiff.GRAD_FN_KEY}, protected). */
  public static final String GRAD_FUNCTION = "grad";
  /** The system property giving the cache's share of JavaCPP's {@code maxbytes}. */
  public static final String CACHE_FRACTION = "promptdas.session-cache";
  private final SessionMemMgr cache = new BufferCache((long) (cacheFraction() * Pointer.maxBytes()));

  /** The cache's share of JavaCPP's {@code maxbytes}: {@value #CACHE_FRACTION}, default 0.75 (SameDiff: 0.25). */
  public static double cacheFraction() {
    String v = System.getProperty(CACHE_FRACTION, "0.75");
    try {
      double f = Double.parseDouble(v);
      if (f > 0 && f < 1) {
        return f;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new PromptDasException.BadInput("-D" + CACHE_FRACTION + "=" + v
        + ": need a fraction of JavaCPP's maxbytes strictly between 0 and 1");
  }

  /** {@code sd.output(inputs, outputs)} in a fresh session over this cache. */
  public Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> inputs, String... outputs) {
    freshSession(sd);
    return sd.output(inputs, outputs);
  }

  /**
   * The {@code outputs} and the gradients of the loss for {@code variables}, like
   * {@code sd.calculateGradientsAndOutputs(...)}, computed by running {@code sd}'s backward graph
   * (which must exist, see {@code Gradients.prepare}) in a fresh session over this cache <em>with
   * array release on</em>: M2.1's own method switches it off for the backward graph, so every
   * forward and backward intermediate stays allocated until the step ends and none is reused. Here each array goes back to the
   * cache once its last consumer has run, as in inference.
   */
  public OutAndGrad gradientsAndOutputs(SameDiff sd, Map<String, INDArray> inputs,
      Collection<String> outputs, Collection<String> variables) {
    SameDiff grad = sd.getFunction(GRAD_FUNCTION);
    if (grad == null) {
      throw new IllegalStateException("the graph has no backward graph yet");
    }
    Map<String, String> gradientNames = new LinkedHashMap<>();
    for (String v : variables) {
      SDVariable g = sd.getVariable(v).getGradient();
      if (g != null) {
        gradientNames.put(g.name(), v);
      }
    }
    List<String> wanted = new ArrayList<>(outputs);
    wanted.addAll(gradientNames.keySet());
    grad.setEnableCache(true);
    grad.setListeners(sd.getListeners());
    freshSession(grad);
    Map<String, INDArray> all = grad.output(inputs, wanted.toArray(new String[0]));
    Map<String, INDArray> out = new LinkedHashMap<>();
    outputs.forEach(o -> out.put(o, all.get(o)));
    Map<String, INDArray> grads = new LinkedHashMap<>();
    gradientNames.forEach((g, v) -> grads.put(v, all.get(g)));
    return new OutAndGrad(out, grads);
  }

  private void freshSession(SameDiff sd) {
    InferenceSession session = new InferenceSession(sd);
    session.setMmgr(cache);
    sd.getSessions().put(Thread.currentThread().getId(), session);
  }
}

package org.promptdas.model.network;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;

/**
 * Runs graphs in a fresh SameDiff session each time, all drawing from one array cache per owner
 * (a model, a trainer). SameDiff M2.1 keeps a session per graph and thread, each with an array
 * cache of its own (up to a quarter of JavaCPP's {@code maxbytes}), and a kept session holds its
 * arrays between runs. With a graph per batch size and prompt-slot count, resident memory grew by
 * about 1.5 GB per graph (small network, batch 32) and a prompted sweep exceeded 16 GB. Measured
 * with five graphs run in turn: a shared cache alone changed nothing; fresh sessions alone kept
 * memory flat but doubled the time per batch (every array allocated anew); fresh sessions over a
 * shared cache kept memory flat (1.9 GB) at the old speed, and the first run of a new graph shape
 * took 1.8 s instead of 5-7 s.
 *
 * <p>Not thread-safe: the graphs sharing one instance must run one at a time (callers synchronise).
 *
 * <pre>{@code
 * SessionArrays arrays = new SessionArrays();
 * arrays.freshSession(sd);                // before every sd.output(...)
 * arrays.freshGradientSession(sd);        // before every sd.calculateGradients(...)
 * }</pre>
 */
public final class SessionArrays {
  /** The name SameDiff files its backward graph under ({@code SameDiff.GRAD_FN_KEY}, protected). */
  private static final String GRAD_FUNCTION = "grad";
  private final SessionMemMgr cache = new ArrayCacheMemoryMgr();

  /** Gives {@code sd} a new session for the calling thread, drawing arrays from this cache. */
  public void freshSession(SameDiff sd) {
    InferenceSession session = new InferenceSession(sd);
    session.setMmgr(cache);
    sd.getSessions().put(Thread.currentThread().getId(), session);
  }

  /** The same for {@code sd}'s backward graph (which must exist, see {@code Gradients.prepare}). */
  public void freshGradientSession(SameDiff sd) {
    SameDiff grad = sd.getFunction(GRAD_FUNCTION);
    if (grad == null) {
      throw new IllegalStateException("the graph has no backward graph yet");
    }
    freshSession(grad);
  }
}

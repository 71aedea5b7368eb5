package org.promptdas.model.network;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.shape.CreateView;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.promptdas.core.PromptDasException;

/**
 * Reshapes that copy nothing, for graphs that are never differentiated: SameDiff M2.1's
 * {@code CreateView} op, which its session executes as a view of the input array. The session
 * releases the input to its memory manager as soon as the view exists (its only consumer has
 * run), while the view is still to be read, and the view is not flagged as one when it covers the
 * whole buffer; so this listener announces every such view to the session's {@link BufferCache},
 * which keeps a shared buffer only after both arrays are released. A graph with these views must
 * run in a {@link SessionArrays} session: under any other memory manager the first view throws.
 * {@code CreateView} has no gradient in M2.1, and its index arrays are integer variables (its
 * session finds no constants), which {@code Gradients.trainables} leaves out. Not thread-safe.
 */
final class SharedViews extends BaseListener {
  private static final SharedViews INSTANCE = new SharedViews();

  private SharedViews() {}

  /** x [n, n] as [1, n, n], a view; puts the listener on {@code sd} the first time. */
  static SDVariable leadingOne(SameDiff sd, SDVariable x) {
    listen(sd);
    return new CreateView(sd, x, new SDVariable[] {CreateView.createNewAxis(sd), CreateView.createAll(sd)})
        .outputVariable();
  }

  /** x [1, n, n] as [n, n], a view; puts the listener on {@code sd} the first time. */
  static SDVariable dropLeadingOne(SameDiff sd, SDVariable x) {
    listen(sd);
    return new CreateView(sd, x, new SDVariable[] {CreateView.createPoint(sd, 0), CreateView.createAll(sd),
        CreateView.createAll(sd)}).outputVariable();
  }

  private static void listen(SameDiff sd) {
    if (!sd.getListeners().contains(INSTANCE)) {
      sd.addListeners(INSTANCE);
    }
  }

  @Override
  public boolean isActive(Operation operation) {
    return true;
  }

  @Override
  public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx,
      INDArray[] outputs) {
    if (!(op.getOp() instanceof CreateView)) {
      return;
    }
    InferenceSession session = sd.getSessions().get(Thread.currentThread().getId());
    if (session == null || !(session.getMmgr() instanceof BufferCache cache)) {
      throw new PromptDasException("op " + op.getName() + ": a forward-only graph with views must "
          + "run through SessionArrays (its buffers would be reused while a view still reads them)");
    }
    cache.share(outputs[0]);
  }
}

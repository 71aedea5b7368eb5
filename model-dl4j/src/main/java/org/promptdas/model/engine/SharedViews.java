package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.shape.CreateView;
import org.nd4j.linalg.api.ops.impl.shape.Reshape;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.promptdas.core.PromptDasException;

/**
 * Reshapes that copy nothing: SameDiff M2.1's {@code CreateView} op, which its session executes as
 * a view of the input array. Forward-only graphs take the views directly ({@link #leadingOne},
 * {@link #dropLeadingOne}); {@code CreateView} has no gradient in M2.1, so graphs to be
 * differentiated take recorded copies ({@link #reshape}) that {@link #rewrite} turns into views,
 * with their gradients' reshapes, once the backward graph exists.
 *
 * <p>The session releases a view's input to its memory manager as soon as the view exists (its
 * only consumer has run), while the view is still to be read, and the view is not flagged as one
 * when it covers the whole buffer; so this listener announces every such view to the session's
 * {@link BufferCache}, which keeps a shared buffer only after both arrays are released. A graph
 * with these views must run in a {@link SessionArrays} session: under any other memory manager
 * (a plain {@code sd.output} or {@code sd.calculateGradients}) the first view throws.
 * {@code CreateView}'s index arrays are integer variables (its session finds no constants), which
 * {@code Gradients.trainables} leaves out. Not thread-safe.
 */
final class SharedViews extends BaseListener {
  private static final SharedViews INSTANCE = new SharedViews();
  private static final String MARK = "/view_reshape";

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

  /**
   * x [n, n] reshaped to [1, n, n] ({@code leading}) or x [1, n, n] to [n, n] in a graph that will
   * be differentiated: a copy here, recorded so that {@link #rewrite} makes it and its gradient's
   * reshape views in the backward graph. Puts the listener on {@code sd}, whose listeners the
   * backward graph runs with ({@link SessionArrays}).
   */
  static SDVariable reshape(SameDiff sd, SDVariable x, boolean leading, long n) {
    listen(sd);
    SDVariable y = leading ? sd.reshape(x, 1, n, n) : sd.reshape(x, n, n);
    GraphEdits.record(sd, y.name() + MARK, leading ? 1 : 0);
    return y;
  }

  /**
   * A {@link BackwardRewrites} rewrite: every {@link #reshape} recorded in backward graph
   * {@code grad}, and the reshape that computes its input's gradient from its output's, becomes a
   * view. Returns how many reshapes it replaced.
   */
  static int rewrite(SameDiff grad) {
    int count = 0;
    for (String name : new ArrayList<>(grad.getVariables().keySet())) {
      if (!name.endsWith(MARK)) {
        continue;
      }
      String y = name.substring(0, name.length() - MARK.length());
      boolean leading = GraphEdits.recorded(grad, name)[0] == 1;
      SameDiffOp forward = producer(grad, y);
      if (forward == null || !(forward.getOp() instanceof Reshape)) {
        continue;
      }
      // the gradients' names, before y's op is replaced (which forgets them)
      SDVariable gy = grad.getVariable(y).getGradient();
      SDVariable gx = grad.getVariable(forward.getInputsToOp().get(0)).getGradient();
      SameDiffOp backward = gx == null ? null : producer(grad, gx.name());
      if (gy != null && backward != null && backward.getOp() instanceof Reshape
          && backward.getInputsToOp().get(0).equals(gy.name())) {
        count += toView(grad, backward, !leading);
      }
      count += toView(grad, forward, leading);
    }
    return count;
  }

  private static SameDiffOp producer(SameDiff grad, String variable) {
    Variable v = grad.getVariables().get(variable);
    return v == null || v.getOutputOfOp() == null ? null : grad.getOps().get(v.getOutputOfOp());
  }

  /** Replaces reshape {@code op} by a view, and the op computing its target shape if nothing else reads it. */
  private static int toView(SameDiff grad, SameDiffOp op, boolean leading) {
    List<String> inputs = List.copyOf(op.getInputsToOp());
    GraphEdits.replace(grad, op,
        in -> List.of(leading ? leadingOne(grad, in.get(0)) : dropLeadingOne(grad, in.get(0))));
    for (String shape : inputs.subList(1, inputs.size())) {
      Variable v = grad.getVariables().get(shape);
      if (v != null && v.getOutputOfOp() != null && (v.getInputsForOp() == null || v.getInputsForOp().isEmpty())) {
        GraphEdits.remove(grad, grad.getOps().get(v.getOutputOfOp()));
      }
    }
    return 1;
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
      throw new PromptDasException("op " + op.getName() + ": a graph with views must run through "
          + "SessionArrays (its buffers would be reused while a view still reads them)");
    }
    cache.share(outputs[0]);
  }
}

package org.promptdas.model.engine;

import java.util.Locale;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.promptdas.core.PromptDasException;

/**
 * Which libnd4j helper kernels (oneDNN) the network's graphs may use. The project ships the oneDNN
 * build of libnd4j: its convolutions are far faster than the plain build's im2col, and
 * the detection head's full-resolution 3x3 convolution is the largest single op of the network.
 * oneDNN's matmul once returned wrong attention outputs (the attention products were batched
 * then), so by default matmul may use oneDNN only when both operands are matrices
 * ({@link Policy#MATRIX_MATMUL}): there it runs at about twice libnd4j's own speed, while on
 * batched operands it gains nothing here.
 * {@code HelperParityTest} checks the policy in force against double precision (which has no
 * oneDNN kernels) at several sizes and batches.
 *
 * <p>The policy comes from the system property {@value #PROPERTY} ({@code matrix-matmul},
 * {@code no-matmul}, {@code all} or {@code none}), e.g. {@code -Dpromptdas.helpers=none} in
 * {@code PROMPT_DAS_JAVA_OPTS} or the executors' Java options. With the plain build
 * ({@code -Dnd4j.native.classifier=linux-x86_64} at build time) there are no helpers and the
 * policy changes nothing.
 */
final class NativeHelpers {
  /** The system property that selects the {@link Policy}. */
  public static final String PROPERTY = "promptdas.helpers";

  /** Which ops may run oneDNN kernels. */
  public enum Policy {
    /** Every op: oneDNN's matmul included. */
    ALL,
    /** Every op; matmul and its gradient only when both operands are rank 2 (the default). */
    MATRIX_MATMUL,
    /** Every op except matmul and its gradient. */
    NO_MATMUL,
    /** No op: libnd4j's own kernels throughout. */
    NONE
  }

  private static volatile Boolean oneDnn;

  private NativeHelpers() {}

  /** The policy set by {@value #PROPERTY}; {@link Policy#MATRIX_MATMUL} when unset. */
  public static Policy policy() {
    String v = System.getProperty(PROPERTY, "matrix-matmul").trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "matrix-matmul" -> Policy.MATRIX_MATMUL;
      case "no-matmul" -> Policy.NO_MATMUL;
      case "all" -> Policy.ALL;
      case "none" -> Policy.NONE;
      default -> throw new PromptDasException("-D" + PROPERTY + " must be matrix-matmul, no-matmul, all or none, got '" + v + "'");
    };
  }

  /** Whether the loaded libnd4j was built with oneDNN. */
  public static boolean oneDnnBuild() {
    if (oneDnn == null) {
      oneDnn = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo().contains("HAVE_ONEDNN");
    }
    return oneDnn;
  }

  /** One line for logs and benchmarks, e.g. "oneDNN build, helpers: matrix-matmul". */
  public static String describe() {
    return (oneDnnBuild() ? "oneDNN build" : "plain build (no helpers)") + ", helpers: "
        + policy().name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Puts the current {@link #policy} on {@code sd} (a listener that vetoes helpers per op). */
  public static SameDiff apply(SameDiff sd) {
    Policy p = policy();
    if (p != Policy.ALL && oneDnnBuild()) {
      sd.addListeners(new Veto(p));
    }
    return sd;
  }

  private static final class Veto extends BaseListener {
    private final Policy policy;

    Veto(Policy policy) {
      this.policy = policy;
    }

    @Override
    public boolean isActive(Operation operation) {
      return true;
    }

    @Override
    public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext ctx) {
      if (ctx != null && (policy == Policy.NONE || vetoedMatmul(op, ctx))) {
        ctx.allowHelpers(false);
      }
    }

    private boolean vetoedMatmul(SameDiffOp op, OpContext ctx) {
      if (!op.getOp().opName().startsWith("matmul")) {
        return false;
      }
      return policy == Policy.NO_MATMUL
          || ctx.getInputArray(0).rank() != 2 || ctx.getInputArray(1).rank() != 2;
    }
  }
}

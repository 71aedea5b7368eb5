package org.promptdas.model.engine;

import java.util.function.ToIntFunction;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * One edit of a backward graph (after {@code createGradFunction}) that replaces gradient ops by ops
 * computing the same values, under the same output names; {@link BackwardRewrites} lists them.
 *
 * @param name a short name, the key of {@link Engine#prepareGradients}'s counts
 * @param edit rewrites every eligible op of a backward graph and returns how many
 */
record Rewrite(String name, ToIntFunction<SameDiff> edit) {
  /** Rewrites every eligible op of {@code grad}; returns how many. */
  int apply(SameDiff grad) {
    return edit.applyAsInt(grad);
  }
}

package org.promptdas.model.engine;

import java.util.function.ToIntFunction;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * One edit of a backward graph (after {@code createGradFunction}) that replaces gradient ops by ops
 * computing the same values, under the same output names; {@link BackwardRewrites} lists them.
 */
interface Rewrite {
  /** A short name, the key of {@link Engine#prepareGradients}'s counts. */
  String name();

  /** Rewrites every eligible op of {@code grad}; returns how many. */
  int apply(SameDiff grad);

  static Rewrite of(String name, ToIntFunction<SameDiff> apply) {
    return new Rewrite() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public int apply(SameDiff grad) {
        return apply.applyAsInt(grad);
      }
    };
  }
}

package org.promptdas.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.promptdas.core.image.IntImage;
import org.promptdas.model.train.TrainingTargets.Row;

/** The balanced weighting of pseudo-labelled pixels ({@link TrainConfig#balancedPseudoLabels}). */
class BalancedPseudoLabelsTest {
  @Test
  void eachTargetClassWeighsHalfTheSourcePixelsAndUnconfidentPixelsStayOut() {
    float[] t1 = {1, 0, 0, 0};
    float[] w1 = {1, 1, 1, 0};
    float[] t2 = {0, 0, 1, 1};
    float[] w2 = {1, 0, 1, 1};
    TrainingTargets.balance(List.of(t1, t2), List.of(w1, w2), 8, 0.5);
    // 3 confident foreground pixels, 3 confident background ones: 8 / (2 * 3) each
    float f = 8f / 6;
    assertEquals(List.of(f, f, f, 0f), List.of(w1[0], w1[1], w1[2], w1[3]));
    assertEquals(List.of(f, 0f, f, f), List.of(w2[0], w2[1], w2[2], w2[3]));
  }

  @Test
  void theForegroundShareSplitsTheTargetsWeightBetweenItsClasses() {
    float[] t = {1, 0, 0, 0, 0};
    float[] w = {1, 1, 1, 1, 0};
    TrainingTargets.balance(List.of(t), List.of(w), 10, 0.2);
    // 10 px of weight: 2 on the one foreground pixel, 8 on the three background ones
    assertEquals(List.of(2f, 8f / 3, 8f / 3, 8f / 3, 0f), List.of(w[0], w[1], w[2], w[3], w[4]));
  }

  @Test
  void theSourceForegroundShareCountsEveryLabelledPixel() {
    Row a = row(new float[] {1, 0, 0, 0});
    Row b = row(new float[] {1, 1, 0, 0, 0, 0, 0, 0});
    assertEquals(3.0 / 12, TrainingTargets.foregroundShare(List.of(a, b)), 1e-12);
    assertEquals(0, TrainingTargets.foregroundShare(List.of()));
  }

  @Test
  void aClassWithoutConfidentPixelsAddsNothing() {
    float[] t = {0, 0, 0, 0};
    float[] w = {1, 1, 0, 1};
    TrainingTargets.balance(List.of(t), List.of(w), 6, 0.5);
    assertEquals(List.of(1f, 1f, 0f, 1f), List.of(w[0], w[1], w[2], w[3]));
  }

  private static Row row(float[] seg) {
    return new Row(new IntImage(1, 1), seg, new float[seg.length], new float[seg.length], true, List.of(), 0,
        List.of(), List.of());
  }
}

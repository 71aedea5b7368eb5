package org.promptdas.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The prompt rule and the learning-rate schedule of {@link TrainConfig}. */
class TrainConfigTest {
  private static final int DRAWS = 20_000;

  /** The share of prompted draws at step {@code step}. */
  private static double promptedShare(TrainConfig c, long step) {
    SplittableRandom rnd = new SplittableRandom(3);
    int prompted = 0;
    for (int i = 0; i < DRAWS; i++) {
      prompted += c.prompted(step, rnd) ? 1 : 0;
    }
    return prompted / (double) DRAWS;
  }

  @Test
  void theShareOfPromptFreeCropsIsTheSetting() {
    TrainConfig base = TrainConfig.tiny(Mode.WDA, 100, 1);
    assertEquals(0.5, promptedShare(base.withPromptFree(0.5, 0), 10), 0.02);
    assertEquals(0.75, promptedShare(base.withPromptFree(0.25, 0), 10), 0.02);
    assertEquals(1.0, promptedShare(base.withPromptFree(0, 0), 10));
    assertEquals(0.0, promptedShare(base.withPromptFree(1, 0), 10));
  }

  @Test
  void promptFreeStepsPromptNothing() {
    TrainConfig c = TrainConfig.tiny(Mode.WDA, 100, 1).withPromptFree(0, 20);
    assertEquals(0.0, promptedShare(c, 19));
    assertEquals(1.0, promptedShare(c, 20));
  }

  @Test
  void theRuleDrawsOneNumberWhateverTheAnswer() {
    TrainConfig free = TrainConfig.tiny(Mode.WDA, 100, 1).withPromptFree(0.5, 50);
    SplittableRandom a = new SplittableRandom(9);
    SplittableRandom b = new SplittableRandom(9);
    free.prompted(0, a);          // inside the prompt-free steps
    free.prompted(60, b);         // after them
    assertEquals(a.nextLong(), b.nextLong());
  }

  @Test
  void theAveragingSettingsAreValidated() {
    TrainConfig c = TrainConfig.tiny(Mode.SOURCE_ONLY, 100, 1);
    assertFalse(c.hasTeacher(), "source-only keeps no EMA unless asked");
    assertTrue(c.withAveraging(true, 0.99).hasTeacher());
    assertFalse(c.withAveraging(true, 0.99).makesPseudoLabels());
    assertThrows(IllegalArgumentException.class, () -> c.withTargetRecipe(true, 1, false));
    assertThrows(IllegalArgumentException.class, () -> c.withStrongSourceShare(1.5));
    assertThrows(IllegalArgumentException.class, () -> c.withAveraging(false, 1));
  }

  @Test
  void warmUpRisesLinearlyThenTheScheduleDecays() {
    TrainConfig c = TrainConfig.tiny(Mode.SOURCE_ONLY, 1000, 1).with(true, true, true, true, 1, 1e-3).withWarmup(10);
    assertEquals(1e-4, c.learningRate(0), 1e-12);
    assertEquals(5e-4 * Math.pow(1 - 4 / 1000.0, 0.9), c.learningRate(4), 1e-12);
    assertEquals(1e-3 * Math.pow(1 - 10 / 1000.0, 0.9), c.learningRate(10), 1e-12);
    assertEquals(0, c.learningRate(1000));
    assertFalse(TrainConfig.cpu(Mode.SOURCE_ONLY, 5000, 1).warmupSteps() == 0, "the cpu preset warms up");
  }

  @Test
  void badRuleSettingsAreRefused() {
    TrainConfig c = TrainConfig.tiny(Mode.WDA, 100, 1);
    assertThrows(IllegalArgumentException.class, () -> c.withPromptFree(1.5, 0));
    assertThrows(IllegalArgumentException.class, () -> c.withPromptFree(0.5, -1));
    assertThrows(IllegalArgumentException.class, () -> c.withWarmup(-1));
  }

  @Test
  void oldConfigurationsWithoutTheNewSettingsStillRead() {
    String json = TrainConfig.tiny(Mode.UDA, 10, 1).toJson()
        .replaceAll(",\"promptFreeShare\":[^,}]*", "").replaceAll(",\"promptFreeSteps\":[^,}]*", "")
        .replaceAll(",\"warmupSteps\":[^,}]*", "").replaceAll(",\"pseudoForegroundShare\":[^,}]*", "")
        .replaceAll(",\"averagedModel\":[^,}]*", "");
    TrainConfig back = TrainConfig.fromJson(json);
    assertEquals(0, back.promptFreeShare());
    assertEquals(0, back.warmupSteps());
    assertEquals(0.5, back.pseudoForegroundShare(), "older runs weighed the target's classes half and half");
    assertFalse(back.averagedModel());
    assertEquals(TrainConfig.tiny(Mode.UDA, 10, 1), TrainConfig.fromJson(TrainConfig.tiny(Mode.UDA, 10, 1).toJson()));
  }
}

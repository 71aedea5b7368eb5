package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.promptdas.core.geometry.Rot90;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.model.infer.SlidingWindowPredictor;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

class SlidingWindowPredictorTest {
  static final PromptDasModel MODEL = new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 3));

  @Test
  void oneWindowIsTheMeanOfItsFourRotationsRotatedBack() {
    IntImage crop = SynthEm.generate(Domain.SOURCE, 64, 64, 4).image();
    List<Point> prompts = List.of(new Point(10, 50), new Point(40, 7));
    SlidingWindowPredictor.Result r = new SlidingWindowPredictor(MODEL, 64, true, 3)
        .predict(crop, prompts, "crop");
    float[] expected = new float[64 * 64];
    for (int k = 0; k < 4; k++) {
      final int turns = k;
      List<Point> turned = prompts.stream().map(p -> Rot90.point(p, 64, turns)).toList();
      float[] p = MODEL.predict(List.of(Rot90.image(crop, k)), List.of(turned)).probability(0);
      float[] back = Rot90.map(p, 64, -k);
      for (int i = 0; i < back.length; i++) {
        expected[i] += back[i] / 4;
      }
    }
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], r.probability()[i], 1e-5);
    }
  }

  @Test
  void everyPixelOfAnyShapedSliceIsCoveredAndBatchingChangesNothing() {
    IntImage slice = SynthEm.generate(Domain.TARGET, 100, 90, 5).image();
    SlidingWindowPredictor.Result a = new SlidingWindowPredictor(MODEL, 32, true, 1).predict(slice, List.of(), "s");
    SlidingWindowPredictor.Result b = new SlidingWindowPredictor(MODEL, 32, true, 7).predict(slice, List.of(), "s");
    assertEquals(100 * 90, a.probability().length);
    for (int i = 0; i < a.probability().length; i++) {
      assertTrue(a.probability()[i] >= 0 && a.probability()[i] <= 1);
      assertEquals(a.probability()[i], b.probability()[i], 1e-5);
      assertEquals(a.density()[i], b.density()[i], 1e-5);
    }
    // a slice smaller than the crop is padded, and its output keeps the slice's size
    SlidingWindowPredictor.Result small = new SlidingWindowPredictor(MODEL, 32, false, 2)
        .predict(SynthEm.generate(Domain.TARGET, 50, 40, 6).image(), List.of(), "small");
    assertEquals(50 * 40, small.probability().length);
  }
}

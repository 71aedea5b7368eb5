package org.promptdas.model.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

class SelfPromptingTest {
  @Test
  void promptsAreTheGivenOnesThenPeaksAboveTheThresholdAwayFromThem() {
    int n = 32;
    float[] density = new float[n * n];
    density[5 * n + 5] = 0.9f;
    density[20 * n + 20] = 0.6f;
    density[10 * n + 25] = 0.3f;  // below 125/255
    density[28 * n + 3] = 0.8f;   // within 2 px of the given point
    SelfPrompting authors = new SelfPrompting(SelfPrompting.AUTHORS_THRESHOLD);
    List<Point> got = authors.prompts(density, n, List.of(new Point(4, 29)));
    assertEquals(List.of(new Point(4, 29), new Point(5, 5), new Point(20, 20)), got);
    assertEquals(List.of(new Point(5, 5), new Point(3, 28), new Point(20, 20), new Point(25, 10)),
        new SelfPrompting(0.25f).prompts(density, n, List.of()), "a lower threshold detects the weaker peak");
  }

  @Test
  void detectedPeaksPromptASecondPass() {
    Weights w = Weights.initialise(NetworkConfig.tiny(), 3);
    // a density map above the threshold everywhere: its local maxima become prompts
    w.tensors().get("mask_decoder.decode_head2.3.bias").assign(1.0);
    PromptDasModel model = new PromptDasModel(w);
    IntImage crop = SynthEm.generate(Domain.SOURCE, 64, 64, 4).image();
    List<Point> given = List.of(new Point(10, 50));
    PromptDasModel.Prediction first = model.predict(List.of(crop), List.of(given));
    SelfPrompting selfPrompting = new SelfPrompting(SelfPrompting.AUTHORS_THRESHOLD);
    List<Point> prompts = selfPrompting.prompts(first.density(0), 64, given);
    assertTrue(prompts.size() > 1, "peaks were detected");
    assertEquals(given.get(0), prompts.get(0));

    float[] auto = selfPrompting.predict(model, List.of(crop), List.of(given)).probability(0);
    assertArrayEquals(model.predict(List.of(crop), List.of(prompts)).probability(0), auto, 1e-6f);
    assertFalse(Arrays.equals(first.probability(0), auto), "the detected prompts change the mask");
  }
}

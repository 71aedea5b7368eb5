package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/** A sharded model predicts what the plain one does, whatever the batch. */
class ShardedModelTest {
  @Test
  void shardsGiveThePlainModelsOutputs() {
    Weights w = Weights.initialise(NetworkConfig.tiny(), 3);
    PromptDasModel plain = new PromptDasModel(w);
    PromptDasModel sharded = plain.sharded(2);
    assertEquals(2, sharded.shards());
    Random r = new Random(5);
    for (int b : new int[] {4, 3}) { // 3 crops: no 2-way split, one shard
      List<IntImage> crops = new ArrayList<>();
      List<List<Point>> prompts = new ArrayList<>();
      for (int i = 0; i < b; i++) {
        IntImage c = new IntImage(64, 64);
        for (int k = 0; k < c.size(); k++) {
          c.data()[k] = r.nextInt(256);
        }
        crops.add(c);
        // prompts in the last crop only: the shards would pad them to different slot counts
        prompts.add(i < b - 1 ? List.of() : List.of(new Point(r.nextInt(64), r.nextInt(64))));
      }
      PromptDasModel.Prediction a = plain.predict(crops, prompts);
      PromptDasModel.Prediction s = sharded.predict(crops, prompts);
      assertClose(a.probability(), s.probability());
      assertClose(a.density(), s.density());
    }
    assertThrows(IllegalArgumentException.class, () -> plain.sharded(0));
  }

  private static void assertClose(INDArray a, INDArray b) {
    assertEquals(List.of(a.shape()[0], a.length()), List.of(b.shape()[0], b.length()));
    double diff = a.sub(b).amaxNumber().doubleValue();
    assertTrue(diff < 1e-5, "the sharded outputs differ by " + diff);
  }
}

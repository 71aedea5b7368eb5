package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/** Behaviour of the tiny network with random weights: padding, extra tokens, batching, files. */
class NetworkBehaviourTest {
  static PromptDasModel model;
  static INDArray images;

  @BeforeAll
  static void setUp() {
    model = new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 7));
    Nd4j.getRandom().setSeed(3);
    images = Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 64, 64);
  }

  static List<Point> points(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Point> p = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      p.add(new Point(r.nextInt(64), r.nextInt(64)));
    }
    return p;
  }

  static INDArray first(INDArray a) {
    return a.get(NDArrayIndex.interval(0, 1)).dup();
  }

  static double maxDiff(INDArray a, INDArray b) {
    return a.sub(b).amaxNumber().doubleValue();
  }

  @Test
  void outputsDoNotDependOnPromptPadding() {
    INDArray one = first(images);
    List<Point> p = points(3, 1);
    PromptDasModel.Output alone = model.forward(one, List.of(p), null);             // 8 slots
    PromptDasModel.Output padded = model.forward(images, List.of(p, points(13, 2)), null); // 16 slots
    assertTrue(maxDiff(alone.segLogits(), first(padded.segLogits())) < 1e-5);
    assertTrue(maxDiff(alone.det(), first(padded.det())) < 1e-5);
    // and the prompts do matter: a different prompt set changes the mask
    PromptDasModel.Output other = model.forward(one, List.of(points(3, 9)), null);
    assertTrue(maxDiff(alone.segLogits(), other.segLogits()) > 1e-4);
  }

  @Test
  void extraContrastiveTokensDoNotChangeTheSegmentation() {
    INDArray one = first(images);
    List<Point> p = points(5, 4);
    PromptDasModel.Output plain = model.forward(one, List.of(p), null);
    PromptDasModel.Output extra = model.forward(one, List.of(p), List.of(points(6, 5)));
    assertTrue(maxDiff(plain.segLogits(), extra.segLogits()) < 1e-5);
    assertTrue(maxDiff(plain.det(), extra.det()) < 1e-5);
    assertEquals(1 + 8 + 6, extra.contrast().size(1));
    // the prompt tokens' contrastive embeddings do not see the extra tokens either
    INDArray a = plain.contrast().get(NDArrayIndex.all(), NDArrayIndex.interval(0, 6), NDArrayIndex.all());
    INDArray b = extra.contrast().get(NDArrayIndex.all(), NDArrayIndex.interval(0, 6), NDArrayIndex.all());
    assertTrue(maxDiff(a, b) < 1e-5);
  }

  @Test
  void zeroPromptsAndBatchesAgreeWithSingleCrops() {
    PromptDasModel.Output batch = model.forward(images, List.of(List.of(), List.of()), null);
    PromptDasModel.Output second = model.forward(images.get(NDArrayIndex.interval(1, 2)).dup(),
        List.of(List.of()), null);
    assertTrue(maxDiff(second.segLogits(), batch.segLogits().get(NDArrayIndex.interval(1, 2))) < 1e-5);
    assertArrayEquals(new long[] {2, 32, 32}, batch.segLogits().shape());
    assertArrayEquals(new long[] {2, 1, 64, 64}, batch.det().shape());
  }

  @Test
  void predictGivesCropSizedProbabilities() {
    IntImage crop = new IntImage(64, 64);
    for (int i = 0; i < crop.size(); i++) {
      crop.data()[i] = (i * 37) % 256;
    }
    PromptDasModel.Prediction p = model.predict(List.of(crop), List.of(points(2, 8)));
    float[] prob = p.probability(0);
    assertEquals(64 * 64, prob.length);
    for (float v : prob) {
      assertTrue(v >= 0 && v <= 1);
    }
    assertEquals(64 * 64, p.density(0).length);
  }

  @Test
  void modelFilesRoundTripAndRefuseOtherNetworks(@TempDir Path tmp) {
    Path f = tmp.resolve("m.pdas");
    ModelFile.save(model, f);
    PromptDasModel back = ModelFile.load(f, NetworkConfig.tiny());
    List<Point> p = points(4, 6);
    PromptDasModel.Output a = model.forward(images, List.of(p, p), null);
    PromptDasModel.Output b = back.forward(images, List.of(p, p), null);
    assertEquals(a.segLogits(), b.segLogits());
    assertEquals(a.det(), b.det());
    NetworkConfig other = new NetworkConfig(64, 8, 64, 2, 2, 2, 8, 2, 4, 96, 16, 4);
    BadInput e = assertThrows(BadInput.class, () -> ModelFile.load(f, other));
    assertTrue(e.getMessage().contains("saved for network"), e.getMessage());
    assertThrows(BadInput.class, () -> ModelFile.fromBytes("junk", new byte[] {1, 2, 3}, null));
  }

  @Test
  void graphsSharingOneArrayCacheGiveTheSameOutputsInAnyOrder() {
    // every run takes a fresh session whose arrays come from the model's shared cache: a reused
    // array must never carry a value over from another graph or an earlier run
    List<List<Point>> none = List.of(List.of(), List.of());
    List<List<Point>> some = List.of(points(11, 4), points(2, 5));
    PromptDasModel.Output firstNone = model.forward(images, none, null);
    PromptDasModel.Output firstSome = model.forward(images, some, null);
    model.forward(first(images), List.of(points(20, 6)), null); // another graph in between
    PromptDasModel.Output againNone = model.forward(images, none, null);
    PromptDasModel.Output againSome = model.forward(images, some, null);
    PromptDasModel.Output fresh = new PromptDasModel(model.weights()).forward(images, some, null);
    assertEquals(firstNone.det(), againNone.det());
    assertEquals(firstNone.segLogits(), againNone.segLogits());
    assertEquals(firstSome.segLogits(), againSome.segLogits());
    assertEquals(fresh.segLogits(), againSome.segLogits());
    assertEquals(fresh.det(), againSome.det());
    assertTrue(maxDiff(firstNone.segLogits(), firstSome.segLogits()) > 1e-4, "the prompts matter");
  }
}

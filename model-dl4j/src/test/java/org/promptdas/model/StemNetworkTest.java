package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.ParamSpec;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Averaging;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.StudentGraph;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.Trainer;
import org.promptdas.model.train.TrainingState;

/**
 * The network with a convolutional stem (the {@code cpu} preset's architecture, at test sizes):
 * predictions, model files, training; and the Fourier matrix as a fixed buffer. Gradients are
 * checked by {@code GradientCheckTest} and {@code BackwardRewritesNetworkTest}.
 */
class StemNetworkTest {
  static final NetworkConfig STEM = new NetworkConfig(64, 8, 64, 1, 2, 2, 8, 2, 4, 96, 16, 4, 16);

  @TempDir
  Path tmp;

  @Test
  void theCpuPresetHasAStemAndTheOthersDoNot() {
    assertTrue(NetworkConfig.cpu().hasStem());
    assertEquals(0, NetworkConfig.small().stemWidth());
    assertTrue(ParamSpec.of(NetworkConfig.cpu()).keySet().stream().anyMatch(k -> k.startsWith(ParamSpec.SKIP)));
    assertTrue(ParamSpec.of(NetworkConfig.paper()).keySet().stream().noneMatch(k -> k.startsWith(ParamSpec.STEM)));
    assertThrows(PromptDasException.BadConfig.class,
        () -> new NetworkConfig(64, 16, 64, 1, 2, 2, 4, 2, 4, 96, 16, 4, 16), "a stem needs patch size 8");
    assertThrows(PromptDasException.BadConfig.class,
        () -> new NetworkConfig(64, 8, 64, 1, 2, 2, 8, 2, 4, 96, 16, 4, 12), "group norms of 8 groups");
  }

  @Test
  void configurationsWithoutAStemWidthReadAsTheAuthorsNetwork() {
    String json = NetworkConfig.small().toJson().replace(",\"stemWidth\":0", "");
    assertEquals(NetworkConfig.small(), NetworkConfig.fromJson(json));
  }

  @Test
  void predictsAnyPromptsAndSurvivesAModelFile() throws Exception {
    PromptDasModel m = new PromptDasModel(Weights.initialise(STEM, 3));
    IntImage crop = SynthEm.generate(Domain.SOURCE, 64, 64, 2).image();
    List<List<Point>> none = List.of(List.of());
    float[] p = m.predict(List.of(crop), none).probability(0);
    assertEquals(64 * 64, p.length);
    float[] prompted = m.predict(List.of(crop), List.of(List.of(new Point(30, 30)))).probability(0);
    assertNotEquals(p[30 * 64 + 30], prompted[30 * 64 + 30], "the prompt reaches the mask");
    ModelFile.save(m, tmp.resolve("stem.pdas"));
    PromptDasModel back = ModelFile.load(tmp.resolve("stem.pdas"), STEM);
    assertArrayEquals(p, back.predict(List.of(crop), none).probability(0), 0f);
  }

  @Test
  void trainingMovesTheStemButNotTheFourierMatrix() {
    Weights init = Weights.initialise(STEM, 1);
    Trainer t = new Trainer(init, TrainConfig.tiny(Mode.WDA, 10, 42).with(true, true, true, true, 1, 1e-3));
    TrainerTest.train(t, 0, 3);
    Map<String, INDArray> student = t.studentWeights().tensors();
    assertEquals(init.tensors().get(ParamSpec.FOURIER), student.get(ParamSpec.FOURIER));
    assertEquals(init.tensors().get(ParamSpec.FOURIER), t.teacherWeights().tensors().get(ParamSpec.FOURIER));
    for (String k : List.of(ParamSpec.STEM + "1.0.conv.weight", ParamSpec.STEM + "3.merge.weight", ParamSpec.SKIP + "1.weight", ParamSpec.FUSE + "1.conv.weight")) {
      assertNotEquals(init.tensors().get(k), student.get(k), k + " is trained");
    }
    // three workers' mean of equal matrices is not always the matrix to the bit; the buffer stays
    TrainingState s = t.state();
    float[] one = Averaging.flatten(s);
    float[] sum = new float[one.length];
    for (int w = 0; w < 3; w++) {
      for (int i = 0; i < one.length; i++) {
        sum[i] += one[i];
      }
    }
    TrainingState avg = Averaging.average(s, sum, 3, 1);
    assertEquals(s.student().get(ParamSpec.FOURIER), avg.student().get(ParamSpec.FOURIER));
    assertEquals(s.teacher().get(ParamSpec.FOURIER), avg.teacher().get(ParamSpec.FOURIER));
  }

  @Test
  void aStemIsNeverRecomputed() {
    assertEquals(false, StudentGraph.recompute("auto", NetworkConfig.cpu()));
    assertThrows(PromptDasException.BadConfig.class, () -> StudentGraph.recompute("true", NetworkConfig.cpu()));
  }

  @Test
  void initialisationFollowsTheAuthorsModules() {
    Weights w = Weights.initialise(NetworkConfig.small(), 5);
    double vit = w.tensors().get("image_encoder.blocks.0.attn.qkv.weight").stdNumber().doubleValue();
    assertEquals(0.02, vit, 0.002, "ViT linear layers: N(0, 0.02^2)");
    INDArray lin1 = w.tensors().get("mask_decoder.transformer.layers.0.mlp.lin1.weight");
    double bound = 1 / Math.sqrt(96);
    assertTrue(lin1.maxNumber().doubleValue() <= bound && lin1.minNumber().doubleValue() >= -bound);
    assertTrue(lin1.maxNumber().doubleValue() > 0.9 * bound, "decoder: PyTorch's uniform default");
    assertTrue(w.tensors().get("mask_decoder.transformer.layers.0.mlp.lin1.bias").maxNumber().doubleValue() > 0,
        "decoder biases are uniform too");
    assertEquals(0, w.tensors().get("image_encoder.blocks.0.attn.qkv.bias").maxNumber().doubleValue());
    assertTrue(Weights.decays("image_encoder.blocks.0.mlp.fc1.weight"));
    for (String k : List.of("image_encoder.blocks.0.norm1.weight", "image_encoder.blocks.0.mlp.fc1.bias",
        "image_encoder.pos_embed", "mask_decoder.mask_tokens.weight", ParamSpec.FOURIER)) {
      assertTrue(!Weights.decays(k), k + " is not decayed");
    }
  }
}

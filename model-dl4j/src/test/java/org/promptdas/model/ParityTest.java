package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.model.io.Npy;
import org.promptdas.model.io.Safetensors;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.TokenMasks;
import org.promptdas.model.network.Weights;

/** The authors' network with random weights (parity-small): seg.npy and det.npy to 1e-4. */
class ParityTest {
  static Path dir() {
    Path d = Path.of(System.getProperty("promptdas.reference", "../../shared/reference"), "parity-small");
    assertTrue(Files.isDirectory(d), "parity case not found at " + d.toAbsolutePath()
        + " (set -Dpromptdas.reference=...)");
    return d;
  }

  static INDArray npy(String f) throws Exception {
    return Npy.read(f, Files.readAllBytes(dir().resolve(f)));
  }

  /** Both graphs: the differentiable one (training) and the forward-only one (predictions). */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void reproducesTheAuthorsOutputs(boolean forInference) throws Exception {
    Map<String, INDArray> raw = Safetensors.read("weights.safetensors",
        Files.readAllBytes(dir().resolve("weights.safetensors"))).tensors();
    NetworkConfig cfg = new NetworkConfig(64, 8, 384, 2, 6, 4, 8, 2, 8, 2048, 256, 8);
    Weights w = Weights.of(cfg, raw, "weights.safetensors");
    INDArray image = npy("image.npy");
    INDArray points = npy("points.npy").reshape(1, 5, 2);
    SameDiff sd = forInference ? PromptDasGraph.buildInference(w, 1, 5, 0, DataType.FLOAT)
        : PromptDasGraph.build(w, 1, 5, 0, DataType.FLOAT);
    Map<String, INDArray> out = sd.output(Map.of(
        PromptDasGraph.IMAGE, image, PromptDasGraph.POINTS, points,
        PromptDasGraph.SELF_MASK, TokenMasks.self(new int[] {5}, 5, 0, DataType.FLOAT),
        PromptDasGraph.KEY_MASK, TokenMasks.keys(new int[] {5}, 5, 0, DataType.FLOAT)),
        PromptDasGraph.SEG, PromptDasGraph.DET);
    INDArray seg = npy("seg.npy");
    INDArray det = npy("det.npy");
    assertArrayEquals(seg.shape(), out.get(PromptDasGraph.SEG).shape());
    assertArrayEquals(det.shape(), out.get(PromptDasGraph.DET).shape());
    double segErr = out.get(PromptDasGraph.SEG).sub(seg).amaxNumber().doubleValue();
    double detErr = out.get(PromptDasGraph.DET).sub(det).amaxNumber().doubleValue();
    System.out.printf("parity-small (%s graph): max |seg - ref| = %.2e, max |det - ref| = %.2e%n",
        forInference ? "inference" : "differentiable", segErr, detErr);
    assertTrue(segErr < 1e-4, "seg differs by " + segErr);
    assertTrue(detErr < 1e-4, "det differs by " + detErr);
  }
}

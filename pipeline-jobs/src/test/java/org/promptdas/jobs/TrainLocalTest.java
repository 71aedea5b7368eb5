package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.synth.Domain;
import org.promptdas.model.ModelFile;
import org.promptdas.model.network.NetworkConfig;

/** train-local end to end on generated slices: checkpoints, history, model file, resume. */
class TrainLocalTest {
  @TempDir Path tmp;

  @Test
  void trainsCheckpointsAndResumesToTheSameModel() throws Exception {
    TestData.slices(tmp.resolve("src"), Domain.SOURCE, 2, 96, 96);
    TestData.slices(tmp.resolve("tgt"), Domain.TARGET, 2, 96, 96);
    String[] common = {"train-local", "--source-images", tmp.resolve("src/img").toString(),
        "--source-labels", tmp.resolve("src/lab").toString(), "--target-images",
        tmp.resolve("tgt/img").toString(), "--target-labels", tmp.resolve("tgt/lab").toString(),
        "--mode", "wda", "--point-fraction", "0.5", "--steps", "4", "--checkpoint-every", "2"};
    TestData.Run straight = TestData.run(concat(common, "--out", tmp.resolve("a").toString()));
    assertEquals(0, straight.code(), straight.err());
    List<String> history = Files.readAllLines(tmp.resolve("a/history.csv"));
    assertEquals(5, history.size());
    assertTrue(history.get(0).startsWith("step,lr,loss"));
    assertTrue(Files.exists(tmp.resolve("a/checkpoints/step-000002.ckpt")));

    // a run stopped after 2 steps (its step-4 checkpoint removed) and resumed ends identical
    TestData.Run first = TestData.run(concat(common, "--out", tmp.resolve("b").toString()));
    assertEquals(0, first.code(), first.err());
    Files.delete(tmp.resolve("b/checkpoints/step-000004.ckpt"));
    Files.delete(tmp.resolve("b/model.pdas"));
    TestData.Run resumed = TestData.run(concat(common, "--out", tmp.resolve("b").toString(), "--resume"));
    assertEquals(0, resumed.code(), resumed.err());
    assertEquals(
        ModelFile.load(tmp.resolve("a/model.pdas"), NetworkConfig.tiny()).weights().tensors(),
        ModelFile.load(tmp.resolve("b/model.pdas"), NetworkConfig.tiny()).weights().tensors());
    assertEquals(5, Files.readAllLines(tmp.resolve("b/history.csv")).size());

    TestData.Run again = TestData.run(concat(common, "--out", tmp.resolve("a").toString()));
    assertEquals(2, again.code(), "an earlier run is not overwritten");
    assertTrue(again.err().contains("holds an earlier run"), again.err());
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.synth.Domain;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

class InferStageTest {
  @TempDir Path tmp;

  private TestData.Run infer(String images, String model, String out, String... extra) {
    String[] base = {"infer", "--images", images, "--model", model, "--out", out, "--stride", "32"};
    String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return TestData.run(all);
  }

  @Test
  void slicesAreSegmentedTheSameAloneOrTogetherAndRerunsResume() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.TARGET, 3, 100, 90);
    Path model = tmp.resolve("m.pdas");
    ModelFile.save(new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 3)), model);
    TestData.Run all = infer(tmp.resolve("vol/img").toString(), model.toString(), tmp.resolve("all").toString());
    assertEquals(0, all.code(), all.err());
    for (String n : new String[] {"s00", "s01", "s02"}) {
      assertEquals(100, ImageReaders.readSingle(tmp.resolve("all/prob/" + n + ".png")).width());
      assertTrue(Files.exists(tmp.resolve("all/mask/" + n + ".png")));
    }
    assertEquals(3, SparkSession.builder().getOrCreate().read().parquet(tmp.resolve("all/stats.parquet").toString()).count());

    Files.createDirectories(tmp.resolve("one"));
    Files.copy(tmp.resolve("vol/img/s01.png"), tmp.resolve("one/s01.png"));
    TestData.Run alone = infer(tmp.resolve("one").toString(), model.toString(), tmp.resolve("alone").toString());
    assertEquals(0, alone.code(), alone.err());
    assertArrayEquals(Files.readAllBytes(tmp.resolve("all/prob/s01.png")), Files.readAllBytes(tmp.resolve("alone/prob/s01.png")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("all/mask/s01.png")), Files.readAllBytes(tmp.resolve("alone/mask/s01.png")));

    // a rerun skips finished slices; a deleted one is redone identically
    byte[] before = Files.readAllBytes(tmp.resolve("all/prob/s02.png"));
    Files.delete(tmp.resolve("all/mask/s02.png"));
    Files.delete(tmp.resolve("all/prob/s02.png"));
    TestData.Run again = infer(tmp.resolve("vol/img").toString(), model.toString(), tmp.resolve("all").toString());
    assertEquals(0, again.code(), again.err());
    assertArrayEquals(before, Files.readAllBytes(tmp.resolve("all/prob/s02.png")));

    // another model never writes into this output; a bad model file fails before anything is written
    Path other = tmp.resolve("other.pdas");
    ModelFile.save(new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 4)), other);
    TestData.Run mixed = infer(tmp.resolve("vol/img").toString(), other.toString(), tmp.resolve("all").toString());
    assertEquals(2, mixed.code(), mixed.err());
    assertTrue(mixed.err().contains("holds predictions of another model"), mixed.err());
    Files.write(tmp.resolve("bad.pdas"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    TestData.Run bad = infer(tmp.resolve("vol/img").toString(), tmp.resolve("bad.pdas").toString(), tmp.resolve("new").toString());
    assertEquals(2, bad.code(), bad.err());
    assertFalse(Files.exists(tmp.resolve("new")));
  }

  @Test
  void selfPromptingDetectsPeaksAtTheConfiguredThreshold() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.TARGET, 1, 80, 80);
    Weights w = Weights.initialise(NetworkConfig.tiny(), 3);
    // a density map of 0.3 everywhere: every pixel a local maximum of that height
    w.tensors().get("mask_decoder.decode_head2.3.weight").assign(0);
    w.tensors().get("mask_decoder.decode_head2.3.bias").assign(0.3);
    Path model = tmp.resolve("m.pdas");
    ModelFile.save(new PromptDasModel(w), model);
    String img = tmp.resolve("vol/img").toString();
    for (String[] run : new String[][] {{"given", "given", "0.5"}, {"none", "auto", "0.49"}, {"low", "auto", "0.05"}}) {
      TestData.Run r = infer(img, model.toString(), tmp.resolve(run[0]).toString(),
          "--set", "infer.prompts=" + run[1], "--set", "infer.peak-threshold=" + run[2]);
      assertEquals(0, r.code(), r.err());
    }
    byte[] given = Files.readAllBytes(tmp.resolve("given/prob/s00.png"));
    assertArrayEquals(given, Files.readAllBytes(tmp.resolve("none/prob/s00.png")), "no peak reaches 0.49: nothing added");
    assertFalse(java.util.Arrays.equals(given, Files.readAllBytes(tmp.resolve("low/prob/s00.png"))),
        "peaks above 0.05 become prompts");
  }
}

package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.synth.Domain;
import org.promptdas.jobs.training.CropRecord;
import org.promptdas.jobs.training.LocalRound;
import org.promptdas.jobs.training.WorkerResult;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.ParamSpec;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Checkpoint;
import org.promptdas.model.train.Execution;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.TrainingState;

/** The distributed train stage in local[2] on generated crops (tiny network). */
class TrainStageTest {
  @TempDir static Path data;

  /** Source crops with labels, target crops with the points of half the instances. */
  @BeforeAll
  static void crops() throws Exception {
    TestData.slices(data.resolve("src"), Domain.SOURCE, 2, 192, 192);
    TestData.slices(data.resolve("tgt"), Domain.TARGET, 2, 192, 192);
    ok(TestData.run("tile", "--images", data.resolve("src/img").toString(), "--labels",
        data.resolve("src/lab").toString(), "--out", data.resolve("src.parquet").toString(), "--crop", "64"));
    ok(TestData.run("points", "--labels", data.resolve("tgt/lab").toString(), "--fraction", "0.5",
        "--out", data.resolve("points").toString()));
    ok(TestData.run("tile", "--images", data.resolve("tgt/img").toString(), "--points",
        data.resolve("points").toString(), "--out", data.resolve("tgt.parquet").toString(), "--crop", "64"));
  }

  static void ok(TestData.Run r) {
    assertEquals(0, r.code(), r.err());
  }

  static TestData.Run train(Path out, int steps, int localSteps, String... extra) {
    List<String> args = new ArrayList<>(List.of("train", "--master", "local[2]",
        "--source", data.resolve("src.parquet").toString(), "--target", data.resolve("tgt.parquet").toString(),
        "--out", out.toString(), "--mode", "wda", "--set", "train.network=tiny",
        "--set", "train.steps=" + steps, "--set", "train.local-steps=" + localSteps,
        "--set", "train.partitions=2", "--set", "train.batch=1", "--set", "train.checkpoint-every=2"));
    args.addAll(Arrays.asList(extra));
    return TestData.run(args.toArray(String[]::new));
  }

  /** The crops of a dataset as the stage deals them: key order, the i-th to worker i mod 2. */
  static List<List<CropRecord>> dealt(String dataset, boolean points) {
    List<CropRecord> all = new ArrayList<>();
    for (Row r : SparkSession.builder().getOrCreate().read().parquet(data.resolve(dataset).toString())
        .collectAsList()) {
      all.add(CropRecord.of(r, !points, points));
    }
    all.sort(Comparator.comparing(CropRecord::key));
    List<List<CropRecord>> out = List.of(new ArrayList<>(), new ArrayList<>());
    for (int i = 0; i < all.size(); i++) {
      out.get(i % 2).add(all.get(i));
    }
    return out;
  }

  @Test
  void aTwoWorkerRoundEndsWithTheMeanOfTheWorkersModels(@TempDir Path tmp) throws Exception {
    ok(train(tmp.resolve("run"), 2, 2));
    byte[] ckpt = Files.readAllBytes(tmp.resolve("run/checkpoints/step-000000002.ckpt"));
    TrainingState round = Checkpoint.read("ckpt", ckpt, NetworkConfig.tiny());

    // the same round by hand: both workers from the initial state, each on its own crops
    TrainConfig cfg = TrainConfig.tiny(Mode.WDA, 2, 42).with(true, true, true, true, 1, 1e-3);
    assertEquals(cfg, round.training());
    byte[] start = Checkpoint.toBytes(TrainingState.initial(Weights.initialise(NetworkConfig.tiny(), 42), cfg));
    List<List<CropRecord>> src = dealt("src.parquet", false);
    List<List<CropRecord>> tgt = dealt("tgt.parquet", true);
    WorkerResult w0 = LocalRound.run(start, 0, src.get(0), tgt.get(0), 2, Execution.PLAIN);
    WorkerResult w1 = LocalRound.run(start, 1, src.get(1), tgt.get(1), 2, Execution.PLAIN);
    assertFalse(Arrays.equals(w0.state(), w1.state()), "the workers trained on different crops");
    float[] mean = new float[w0.state().length];
    for (int i = 0; i < mean.length; i++) {
      mean[i] = (w0.state()[i] + w1.state()[i]) / 2;
    }
    // worker vectors list parameters by name; the stage's averaged tensors must match name by name
    double worst = 0;
    int at = 0;
    for (Map<String, INDArray> part : List.of(round.student(), round.firstMoments(), round.secondMoments())) {
      for (String k : new TreeSet<>(round.student().keySet())) {
        if (part.get(k) == null) { // a frozen tensor has no moments; the workers' vectors hold zeros
          assertTrue(ParamSpec.frozen(k), k);
          at += (int) round.student().get(k).length();
          continue;
        }
        float[] got = part.get(k).dup('c').data().asFloat();
        for (int i = 0; i < got.length; i++) {
          worst = Math.max(worst, Math.abs(mean[at + i] - got[i]));
        }
        at += got.length;
      }
    }
    assertEquals(mean.length, at);
    assertTrue(worst < 1e-6, "parameters and moments differ from the workers' mean by " + worst);
    assertEquals(2, round.step());
    assertEquals(2, round.adamSteps());
    // EMA decays of steps 0 and 1 are 0 and 1/2: the teacher is the averaged student
    for (String k : round.student().keySet()) {
      INDArray s = round.student().get(k);
      assertTrue(s.equalsWithEps(round.teacher().get(k), 1e-7), k);
    }
    assertTrue(Files.exists(tmp.resolve("run/model.pdas")));
    assertEquals(1, Files.readAllLines(tmp.resolve("run/history.jsonl")).size());
    assertEquals(1, SparkSession.builder().getOrCreate().read()
        .parquet(tmp.resolve("run/history.parquet").toString()).count());
  }

  @Test
  void oneWorkerOnTwoCoresRunsItsStepsInTwoShardsAndResumesOnlyWithTwo(@TempDir Path tmp) throws Exception {
    String[] oneWorker = {"--set", "train.partitions=1", "--set", "train.batch=2"};
    ok(train(tmp.resolve("a"), 2, 1, oneWorker));
    assertEquals(2, new ObjectMapper().readTree(tmp.resolve("a/_train.json").toFile()).path("shards").asInt(),
        "auto: the driver's 2 cores for 1 worker");
    Files.delete(tmp.resolve("a/model.pdas"));
    List<String> other = new ArrayList<>(Arrays.asList(oneWorker));
    other.addAll(List.of("--set", "train.step-threads=1", "--resume"));
    TestData.Run refused = train(tmp.resolve("a"), 2, 1, other.toArray(String[]::new));
    assertEquals(2, refused.code(), refused.err());
    assertTrue(refused.err().contains("2 shards per step"), refused.err());
  }

  @Test
  void aResumedRunEndsWithTheSameModelAsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
    ok(train(tmp.resolve("a"), 4, 1));
    ok(train(tmp.resolve("b"), 4, 1));
    // b "stopped" after its step-2 checkpoint
    Files.delete(tmp.resolve("b/checkpoints/step-000000004.ckpt"));
    Files.delete(tmp.resolve("b/model.pdas"));
    TestData.Run resumed = train(tmp.resolve("b"), 4, 1, "--resume");
    ok(resumed);
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a/model.pdas")), Files.readAllBytes(tmp.resolve("b/model.pdas")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a/checkpoints/step-000000004.ckpt")),
        Files.readAllBytes(tmp.resolve("b/checkpoints/step-000000004.ckpt")));
    assertEquals(4, Files.readAllLines(tmp.resolve("b/history.jsonl")).size());

    // a finished run resumed again does nothing
    long before = Files.getLastModifiedTime(tmp.resolve("b/model.pdas")).toMillis();
    ok(train(tmp.resolve("b"), 4, 1, "--resume"));
    assertEquals(before, Files.getLastModifiedTime(tmp.resolve("b/model.pdas")).toMillis());
  }

  @Test
  void badInputsAreRefusedBeforeAnythingIsWritten(@TempDir Path tmp) throws Exception {
    TestData.Run noTarget = TestData.run("train", "--master", "local[2]", "--source",
        data.resolve("src.parquet").toString(), "--out", tmp.resolve("x").toString(), "--mode", "wda");
    assertEquals(2, noTarget.code());
    assertTrue(noTarget.err().contains("prompt-das.train.target is needed in mode wda"), noTarget.err());

    TestData.Run missing = TestData.run("train", "--master", "local[2]", "--source",
        tmp.resolve("nope").toString(), "--out", tmp.resolve("x").toString(), "--mode", "source-only");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("no such source crop dataset"), missing.err());

    TestData.Run unlabelled = TestData.run("train", "--master", "local[2]", "--source",
        data.resolve("tgt.parquet").toString(), "--out", tmp.resolve("x").toString(), "--mode", "source-only");
    assertEquals(2, unlabelled.code());
    assertTrue(unlabelled.err().contains("crops have no label"), unlabelled.err());

    Files.writeString(tmp.resolve("none.csv"), "volume,slice,x,y\n");
    ok(TestData.run("tile", "--images", data.resolve("tgt/img").toString(), "--points",
        tmp.resolve("none.csv").toString(), "--out", tmp.resolve("nopoints.parquet").toString(), "--crop", "64"));
    TestData.Run pointless = TestData.run("train", "--master", "local[2]", "--source",
        data.resolve("src.parquet").toString(), "--target", tmp.resolve("nopoints.parquet").toString(),
        "--out", tmp.resolve("x").toString(), "--mode", "wda", "--set", "train.network=tiny");
    assertEquals(2, pointless.code());
    assertTrue(pointless.err().contains("no crop carries points"), pointless.err());

    TestData.Run small = train(tmp.resolve("x"), 2, 1, "--set", "train.network=small");
    assertEquals(2, small.code(), small.err());
    assertTrue(small.err().contains("smallest source crop is 64 px, the network's window 128 px"), small.err());

    TestData.Run uneven = train(tmp.resolve("x"), 5, 2);
    assertEquals(2, uneven.code());
    assertTrue(uneven.err().contains("does not divide"), uneven.err());
    assertFalse(Files.exists(tmp.resolve("x")), "nothing was written");

    // a checkpoint of another configuration is not resumed
    ok(train(tmp.resolve("run"), 2, 1));
    Files.delete(tmp.resolve("run/model.pdas"));
    byte[] ckpt = Files.readAllBytes(tmp.resolve("run/checkpoints/step-000000002.ckpt"));
    TestData.Run other = train(tmp.resolve("run"), 2, 1, "--resume", "--set", "train.learning-rate=0.01");
    assertEquals(2, other.code());
    assertTrue(other.err().contains("a checkpoint of another training configuration"), other.err());
    assertArrayEquals(ckpt, Files.readAllBytes(tmp.resolve("run/checkpoints/step-000000002.ckpt")));
    TestData.Run otherK = train(tmp.resolve("run"), 2, 2, "--resume");
    assertEquals(2, otherK.code());
    assertTrue(otherK.err().contains("resuming needs the same"), otherK.err());
    TestData.Run again = train(tmp.resolve("run"), 2, 1);
    assertEquals(2, again.code());
    assertTrue(again.err().contains("holds an earlier run"), again.err());
  }

  @Test
  void runsWithMoreWorkersThanCoresAreBitReproducible(@TempDir Path tmp) throws Exception {
    ok(train(tmp.resolve("a"), 2, 1, "--set", "train.partitions=4"));
    ok(train(tmp.resolve("b"), 2, 1, "--set", "train.partitions=4"));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a/model.pdas")), Files.readAllBytes(tmp.resolve("b/model.pdas")));
  }

  @Test
  void aRunKilledBeforeItsFirstCheckpointStartsAgainOnResume(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Files.createDirectories(out.resolve("checkpoints"));
    Files.writeString(out.resolve("_train.json"), "{}");
    ok(train(out, 2, 1, "--resume"));
    ok(train(tmp.resolve("ref"), 2, 1));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("ref/model.pdas")), Files.readAllBytes(out.resolve("model.pdas")));
    // a folder holding files the stage did not write is not taken over
    Files.createDirectories(tmp.resolve("mine"));
    Files.writeString(tmp.resolve("mine/notes.txt"), "keep me");
    TestData.Run foreign = train(tmp.resolve("mine"), 2, 1, "--resume");
    assertEquals(2, foreign.code(), foreign.err());
    assertTrue(foreign.err().contains("notes.txt"), foreign.err());
  }

  @Test
  void onlyTheNewestAndThePinnedCheckpointsAreKept(@TempDir Path tmp) throws Exception {
    ok(train(tmp.resolve("run"), 5, 1, "--set", "train.checkpoint-every=1", "--set", "train.keep-checkpoints=2",
        "--set", "train.pinned-checkpoints=[1]"));
    try (var files = Files.list(tmp.resolve("run/checkpoints"))) {
      assertEquals(List.of("step-000000001.ckpt", "step-000000004.ckpt", "step-000000005.ckpt"),
          files.map(f -> f.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void anOverwriteThatFailsLeavesTheEarlierRunWhole(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    ok(train(out, 2, 1));
    byte[] model = Files.readAllBytes(out.resolve("model.pdas"));
    // source crops whose images cannot be decoded: the replacement fails in its first step
    SparkSession spark = SparkSession.builder().getOrCreate();
    spark.read().parquet(data.resolve("src.parquet").toString())
        .withColumn("image", org.apache.spark.sql.functions.lit(new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3}))
        .write().parquet(tmp.resolve("broken.parquet").toString());
    TestData.Run replaced = TestData.run("train", "--master", "local[2]", "--source",
        tmp.resolve("broken.parquet").toString(), "--target", data.resolve("tgt.parquet").toString(),
        "--out", out.toString(), "--mode", "wda", "--set", "train.network=tiny", "--set", "train.steps=2",
        "--set", "train.local-steps=1", "--set", "train.partitions=2", "--set", "train.batch=1", "--overwrite");
    assertEquals(2, replaced.code(), replaced.err());
    assertArrayEquals(model, Files.readAllBytes(out.resolve("model.pdas")), "the earlier model is untouched");
    assertTrue(Files.exists(out.resolve("checkpoints/step-000000002.ckpt")));
    // a replacement that completes takes its place
    ok(train(out, 2, 1, "--overwrite", "--set", "train.seed=5"));
    assertFalse(Arrays.equals(model, Files.readAllBytes(out.resolve("model.pdas"))));
    assertFalse(Files.exists(tmp.resolve(".run.replacing")));
  }
}

package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.geometry.Crops;
import org.promptdas.core.geometry.Window;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.CentrePoints;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Point;
import org.promptdas.core.labels.PointSampler;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Averaging;
import org.promptdas.model.train.Checkpoint;
import org.promptdas.model.train.Execution;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.Sample;
import org.promptdas.model.train.StepResult;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.Trainer;
import org.promptdas.model.train.TrainingState;

/** Reproducibility, resume equality and learning of the single-process trainer (tiny network). */
class TrainerTest {
  static final NetworkConfig NET = NetworkConfig.tiny();

  static TrainConfig config(Mode mode, int steps, double lr) {
    return TrainConfig.tiny(mode, steps, 42).with(true, true, true, true, 1, lr);
  }

  /**
   * A 64 px crop of a generated 256 px slice, centred on one of its mitochondria (a 64 px slice
   * would hold none: the generator's density is per megapixel), with its labels or sparse points.
   */
  static Sample crop(Domain d, long seed, boolean labelled, double pointFraction) {
    SynthEm.Sample s = SynthEm.generate(d, 256, 256, seed);
    List<Point> centres = CentrePoints.of(Instances.ofIds(s.labels()));
    Point c = centres.get((int) (seed % centres.size()));
    Window w = new Window(Math.max(0, Math.min(192, c.x() - 32)), Math.max(0, Math.min(192, c.y() - 32)), 64, 64);
    IntImage label = Crops.extract(s.labels(), w, Crops.Padding.ZERO);
    List<Point> pts = pointFraction > 0
        ? PointSampler.choose(CentrePoints.of(Instances.ofIds(label)), pointFraction, 1, "t", (int) seed)
        : List.of();
    return new Sample(Crops.extract(s.image(), w, Crops.Padding.REFLECT), labelled ? label : null, pts);
  }

  @Test
  void trainingCropsHoldMitochondria() {
    for (int s = 0; s < 8; s++) {
      double fg = source(s).get(0).label().countNonZero() / 4096.0;
      assertTrue(fg > 0.05, "source crop " + s + " is " + fg + " foreground");
    }
  }

  static List<Sample> source(int step) {
    return List.of(crop(Domain.SOURCE, 1000 + step % 8, true, 0));
  }

  static List<Sample> target(int step) {
    return List.of(crop(Domain.TARGET, 2000 + step % 8, false, 0.5));
  }

  static void train(Trainer t, int from, int to) {
    for (int s = from; s < to; s++) {
      t.step(source(s), target(s));
    }
  }

  static void assertSameTensors(Map<String, INDArray> a, Map<String, INDArray> b) {
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      assertEquals(a.get(k), b.get(k), k);
    }
  }

  @Test
  void sameSeedGivesBitIdenticalParameters() {
    Trainer a = new Trainer(Weights.initialise(NET, 1), config(Mode.WDA, 10, 1e-3));
    Trainer b = new Trainer(Weights.initialise(NET, 1), config(Mode.WDA, 10, 1e-3));
    train(a, 0, 3);
    train(b, 0, 3);
    assertSameTensors(a.studentWeights().tensors(), b.studentWeights().tensors());
    assertSameTensors(a.teacherWeights().tensors(), b.teacherWeights().tensors());
  }

  @Test
  void recomputingTheEncoderFollowsThePlainStudent() {
    NetworkConfig twoBlocks = new NetworkConfig(64, 8, 64, 2, 2, 2, 8, 2, 4, 96, 16, 4);
    Trainer plain = new Trainer(Weights.initialise(twoBlocks, 4), config(Mode.WDA, 10, 1e-3));
    Trainer recomputing = new Trainer(Weights.initialise(twoBlocks, 4), config(Mode.WDA, 10, 1e-3), new Execution(true, 1));
    for (int s = 0; s < 3; s++) {
      assertEquals(plain.step(source(s), target(s)).loss(), recomputing.step(source(s), target(s)).loss(), 1e-5);
    }
    assertFollows(plain, recomputing, Weights.initialise(twoBlocks, 4));
  }

  @ParameterizedTest
  @EnumSource(value = Mode.class, names = {"WDA", "SOURCE_ONLY"})
  void shardedStepsFollowTheWholeBatch(Mode mode) {
    TrainConfig cfg = TrainConfig.tiny(mode, 10, 42).with(true, true, true, true, 2, 1e-3);
    Trainer whole = new Trainer(Weights.initialise(NET, 8), cfg);
    Trainer sharded = new Trainer(Weights.initialise(NET, 8), cfg, new Execution(false, 2));
    for (int s = 0; s < 3; s++) {
      List<Sample> src = List.of(source(s).get(0), source(s + 1).get(0));
      List<Sample> tgt = List.of(target(s).get(0), target(s + 3).get(0));
      StepResult a = whole.step(src, tgt);
      StepResult b = sharded.step(src, tgt);
      assertEquals(a.loss(), b.loss(), 1e-5 * Math.abs(a.loss()));
      assertEquals(a.segmentation(), b.segmentation(), 1e-5 * Math.abs(a.segmentation()));
      assertEquals(a.detection(), b.detection(), 1e-5 * Math.abs(a.detection()) + 1e-9);
      assertEquals(a.contrastive(), b.contrastive(), 1e-5 * Math.abs(a.contrastive()) + 1e-9);
    }
    assertFollows(whole, sharded, Weights.initialise(NET, 8));
    assertThrows(IllegalArgumentException.class, () -> new Trainer(Weights.initialise(NET, 8), cfg, new Execution(false, 3)));
  }

  /**
   * {@code b}'s weights are within 1e-3 of how far {@code a}'s moved from {@code init} (over all
   * weights: a few, such as the key projections' biases, which cannot change attention, have
   * gradients that are rounding noise, which Adam scales up differently in each run).
   */
  private static void assertFollows(Trainer a, Trainer b, Weights init) {
    Map<String, INDArray> wa = a.studentWeights().tensors();
    Map<String, INDArray> wb = b.studentWeights().tensors();
    assertEquals(wa.keySet(), wb.keySet());
    double moved = 0;
    double apart = 0;
    for (String k : wa.keySet()) {
      moved += Math.pow(wa.get(k).sub(init.tensors().get(k)).norm2Number().doubleValue(), 2);
      apart += Math.pow(wa.get(k).sub(wb.get(k)).norm2Number().doubleValue(), 2);
    }
    assertTrue(moved > 0 && Math.sqrt(apart) <= 1e-3 * Math.sqrt(moved),
        "the weights moved " + Math.sqrt(moved) + " but the runs are " + Math.sqrt(apart) + " apart");
  }

  @Test
  void resumingFromACheckpointEqualsNeverStopping(@TempDir Path tmp) {
    Trainer straight = new Trainer(Weights.initialise(NET, 3), config(Mode.WDA, 10, 1e-3));
    train(straight, 0, 4);
    Trainer first = new Trainer(Weights.initialise(NET, 3), config(Mode.WDA, 10, 1e-3));
    train(first, 0, 2);
    Path ckpt = tmp.resolve("step-2.ckpt");
    Checkpoint.save(first, ckpt);
    Trainer resumed = Checkpoint.load(ckpt, NET);
    assertEquals(2, resumed.step());
    train(resumed, 2, 4);
    assertSameTensors(straight.studentWeights().tensors(), resumed.studentWeights().tensors());
    assertSameTensors(straight.teacherWeights().tensors(), resumed.teacherWeights().tensors());
    NetworkConfig other = new NetworkConfig(64, 8, 64, 2, 2, 2, 8, 2, 4, 96, 16, 4);
    assertThrows(BadInput.class, () -> Checkpoint.load(ckpt, other));
  }

  @Test
  void aRoundOfOneWorkerAndOneStepIsTheSingleProcessStep() {
    Trainer single = new Trainer(Weights.initialise(NET, 6), config(Mode.WDA, 10, 1e-3));
    train(single, 0, 2);
    TrainingState s = single.state();
    // the start state's maps in another order than the worker's graph: values must follow names
    TrainingState start = new TrainingState(s.network(), s.training(), s.step(), s.adamSteps(),
        reversed(s.student()), reversed(s.teacher()), reversed(s.firstMoments()), reversed(s.secondMoments()));
    train(single, 2, 3);
    Trainer worker = Trainer.from(start).holdTeacher();
    train(worker, 2, 3);
    TrainingState round = Averaging.average(start, Averaging.flatten(worker.state()), 1, 1);
    TrainingState expected = single.state();
    assertEquals(expected.step(), round.step());
    assertEquals(expected.adamSteps(), round.adamSteps());
    assertSameTensors(expected.student(), round.student());
    assertSameTensors(expected.firstMoments(), round.firstMoments());
    assertSameTensors(expected.secondMoments(), round.secondMoments());
    for (String k : expected.teacher().keySet()) {
      assertTrue(expected.teacher().get(k).equalsWithEps(round.teacher().get(k), 1e-7), k);
    }
    assertTrue(!expected.teacher().equals(start.teacher()), "the teacher moved");
  }

  static Map<String, INDArray> reversed(Map<String, INDArray> m) {
    List<String> keys = new ArrayList<>(m.keySet());
    java.util.Collections.reverse(keys);
    Map<String, INDArray> out = new java.util.LinkedHashMap<>();
    keys.forEach(k -> out.put(k, m.get(k)));
    return out;
  }

  @Test
  void theAverageOfTwoWorkersIsTheirMeanAndTheTeacherFollowsIt() {
    TrainingState start = new Trainer(Weights.initialise(NET, 7), config(Mode.UDA, 10, 1e-3)).state();
    Trainer a = Trainer.from(start).holdTeacher();
    Trainer b = Trainer.from(start).holdTeacher().useRandomStream(1);
    train(a, 0, 2);
    train(b, 4, 6);
    float[] fa = Averaging.flatten(a.state());
    assertArrayEquals(fa, a.flatState(), "flat from the live arrays = from a copy");
    float[] fb = Averaging.flatten(b.state());
    float[] sum = new float[fa.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = fa[i] + fb[i];
    }
    TrainingState avg = Averaging.average(start, sum, 2, 2);
    assertEquals(2, avg.step());
    String k = "mask_decoder.mask_tokens.weight";
    INDArray mean = a.state().student().get(k).add(b.state().student().get(k)).divi(2);
    assertTrue(mean.equalsWithEps(avg.student().get(k), 1e-7));
    assertTrue(!a.state().student().get(k).equalsWithEps(b.state().student().get(k), 1e-6),
        "the workers saw different crops");
    // steps 0 and 1 have EMA decays 0 and 1/2: the teacher becomes the averaged student
    assertTrue(avg.teacher().get(k).equalsWithEps(avg.student().get(k), 1e-7));
  }

  @Test
  void aNonFiniteLossStopsBeforeTheUpdate() {
    Weights w = Weights.initialise(NET, 4);
    w.tensors().get("mask_decoder.mask_tokens.weight").putScalar(0, Float.NaN);
    Trainer t = new Trainer(w, config(Mode.SOURCE_ONLY, 10, 1e-3));
    INDArray before = t.studentWeights().tensors().get("image_encoder.patch_embed.proj.weight");
    org.promptdas.core.PromptDasException e = assertThrows(org.promptdas.core.PromptDasException.class,
        () -> t.step(source(0), List.of()));
    assertTrue(e.getMessage().contains("training diverged at step 1"), e.getMessage());
    assertEquals(0, t.step());
    assertEquals(before, t.studentWeights().tensors().get("image_encoder.patch_embed.proj.weight"));
  }

  @Test
  void anAveragedModelIsTheEmaOfTheStudentAndLeavesTheStudentAlone() {
    TrainConfig plainCfg = config(Mode.SOURCE_ONLY, 10, 1e-3);
    TrainConfig averagedCfg = plainCfg.withAveraging(true, 0.6);
    Trainer plain = new Trainer(Weights.initialise(NET, 6), plainCfg);
    Trainer averaged = new Trainer(Weights.initialise(NET, 6), averagedCfg);
    Map<String, INDArray> ema = new java.util.HashMap<>(Weights.initialise(NET, 6).tensors());
    for (int s = 0; s < 4; s++) {
      plain.step(source(s), List.of());
      averaged.step(source(s), List.of());
      double d = averagedCfg.emaDecay(s);
      Map<String, INDArray> student = averaged.studentWeights().tensors();
      ema.replaceAll((k, v) -> v.mul(d).add(student.get(k).mul(1 - d)));
    }
    assertSameTensors(plain.studentWeights().tensors(), averaged.studentWeights().tensors());
    Map<String, INDArray> teacher = averaged.teacherWeights().tensors();
    double apart = 0;
    for (String k : ema.keySet()) {
      assertTrue(ema.get(k).equalsWithEps(teacher.get(k), 1e-6), k);
      apart += teacher.get(k).sub(averaged.studentWeights().tensors().get(k)).norm2Number().doubleValue();
    }
    assertTrue(apart > 0, "the averaged model is the student");
  }

  @Test
  void strongSourceViewsChangeTheStepOnlyWhenAsked() {
    TrainConfig plainCfg = config(Mode.SOURCE_ONLY, 10, 1e-3);
    double plain = new Trainer(Weights.initialise(NET, 7), plainCfg).step(source(0), List.of()).loss();
    double none = new Trainer(Weights.initialise(NET, 7), plainCfg.withStrongSourceShare(0))
        .step(source(0), List.of()).loss();
    double strong = new Trainer(Weights.initialise(NET, 7), plainCfg.withStrongSourceShare(1))
        .step(source(0), List.of()).loss();
    assertEquals(plain, none);
    assertTrue(Math.abs(strong - plain) > 1e-6, "a strong view of the crop gives the same loss " + strong);
  }

  @Test
  void sourceLossFalls() {
    Trainer t = new Trainer(Weights.initialise(NET, 5), config(Mode.SOURCE_ONLY, 40, 1e-3));
    List<Double> losses = new ArrayList<>();
    for (int s = 0; s < 40; s++) {
      StepResult r = t.step(source(s), List.of());
      losses.add(r.loss());
    }
    double first = losses.subList(0, 8).stream().mapToDouble(x -> x).average().orElseThrow();
    double last = losses.subList(32, 40).stream().mapToDouble(x -> x).average().orElseThrow();
    System.out.printf("source loss: first 8 steps %.4f, last 8 steps %.4f%n", first, last);
    assertTrue(last < 0.8 * first, "loss " + first + " -> " + last);
  }
}

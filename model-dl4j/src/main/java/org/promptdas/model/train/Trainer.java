package org.promptdas.model.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.CentrePoints;
import org.promptdas.core.labels.Components;
import org.promptdas.core.labels.ConnectedComponents;
import org.promptdas.core.labels.Connectivity;
import org.promptdas.core.labels.DensityMap;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Peaks;
import org.promptdas.core.labels.Point;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.loss.TrainingLoss;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.ParamSpec;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.SessionArrays;
import org.promptdas.model.network.TokenMasks;
import org.promptdas.model.network.Weights;

/**
 * Single-process Prompt-DAS training, one mean-teacher step at a time. Each step takes
 * {@code batch} source crops and, unless source-only, {@code batch} target crops, augments them,
 * builds every target from labels or from the teacher, runs forward and backward through the
 * student, applies AdamW with the polynomial schedule and moves the teacher (EMA of the student).
 * <ul>
 *   <li>Source crops: BCE on the labels, MSE on their centre-point density map, and n_s random
 *       ground-truth centres as prompts: none for a share of the crops
 *       ({@link TrainConfig#promptFreeShare}), else n_s drawn from 1..min(centres, slots).</li>
 *   <li>Target crops (UDA/WDA): the teacher, prompted with the sparse points, gives segmentation
 *       pseudo-labels (confident pixels only) and detected points (peaks of its density map); the
 *       density target is built from the sparse and detected points; the sparse points plus the
 *       detected ones are the training prompts (none for the prompt-free share); PCL takes 3 points per confident instance as
 *       queries and N^n background points. In UDA the teacher's confident detections stand in for
 *       the sparse points. Oracle: target crops are treated as labelled source crops.</li>
 * </ul>
 * Every random choice of step t derives from (seed, random stream, t), so two runs with the same
 * seed give bit-identical parameters and a run resumed from a checkpoint ({@link #state},
 * {@link #from}) continues exactly. Not thread-safe.
 */
public final class Trainer {
  private final NetworkConfig net;
  private final TrainConfig cfg;
  private final int rows;
  private final int slots;
  private final int queries;
  private final int backgrounds;
  private final StudentGraph student;
  private final SameDiff teacher;
  private final Map<String, INDArray> params = new LinkedHashMap<>();
  private final AdamW optimiser;
  private final SessionArrays arrays = new SessionArrays();
  private long step;
  private long stream;
  private boolean teacherHeld;

  public Trainer(Weights init, TrainConfig cfg) {
    this(init, cfg, false);
  }

  /**
   * A trainer whose student recomputes the encoder's activations during the backward pass when
   * {@code recomputeEncoder} ({@link StudentGraph}): the same steps in less memory and about a
   * third more encoder time.
   */
  public Trainer(Weights init, TrainConfig cfg, boolean recomputeEncoder) {
    this.net = init.config();
    this.cfg = cfg;
    this.rows = cfg.usesTarget() ? 2 * cfg.batch() : cfg.batch();
    this.slots = cfg.maxPrompts();
    boolean pcl = cfg.contrastive() && cfg.hasTeacher();
    this.queries = pcl ? cfg.maxQueries() : 0;
    this.backgrounds = pcl ? cfg.backgroundPoints() : 0;
    this.student = StudentGraph.build(init, rows, slots, queries + backgrounds, recomputeEncoder);
    TrainingLoss.attach(student.head(), net, rows, slots, queries, backgrounds, cfg.losses(), DataType.FLOAT);
    student.prepare();
    params.putAll(student.trainables());
    this.teacher = cfg.hasTeacher()
        ? PromptDasGraph.buildInference(init, cfg.batch(), slots, 0, DataType.FLOAT) : null;
    this.optimiser = new AdamW(0.9, 0.999, 1e-8, cfg.weightDecay(), Weights::decays);
  }

  public NetworkConfig network() {
    return net;
  }

  public TrainConfig config() {
    return cfg;
  }

  /** Steps done so far. */
  public long step() {
    return step;
  }

  public Weights studentWeights() {
    return Weights.fromGraph(net, params);
  }

  /** The teacher (the student itself when the mode has none). */
  public Weights teacherWeights() {
    return teacher == null ? studentWeights() : Weights.fromGraph(net, Gradients.trainables(teacher));
  }

  /**
   * Draws this trainer's random choices from stream {@code id} (default 0): data-parallel workers
   * that run the same steps on different crops use different streams.
   */
  public Trainer useRandomStream(long id) {
    this.stream = id;
    return this;
  }

  /**
   * Keeps the teacher fixed during {@link #step} (the workers of a distributed round, whose teacher
   * moves once per round, on the driver, from the averaged student).
   */
  public Trainer holdTeacher() {
    this.teacherHeld = true;
    return this;
  }

  /** A snapshot of everything needed to continue (copies, not live arrays). */
  public TrainingState state() {
    Map<String, INDArray> s = copy(params);
    return new TrainingState(net, cfg, step, optimiser.steps(), s,
        teacher == null ? s : copy(Gradients.trainables(teacher)),
        copy(optimiser.firstMoments()), copy(optimiser.secondMoments()));
  }

  /**
   * This trainer's contribution to a round ({@link Averaging#flatten}), read straight from the live
   * arrays: {@link #state} would first copy every parameter, the teacher and both moments.
   */
  public float[] flatState() {
    return Averaging.flatten(new TrainingState(net, cfg, step, optimiser.steps(), params, params,
        optimiser.firstMoments(), optimiser.secondMoments()));
  }

  /** A trainer continuing from {@code state}. */
  public static Trainer from(TrainingState state) {
    return from(state, false);
  }

  /** A trainer continuing from {@code state}, recomputing the encoder if {@code recomputeEncoder}. */
  public static Trainer from(TrainingState state, boolean recomputeEncoder) {
    Trainer t = new Trainer(Weights.fromGraph(state.network(), state.student()), state.training(),
        recomputeEncoder);
    t.load(state);
    return t;
  }

  /**
   * Puts {@code state} into this trainer's existing graphs (no rebuild), so that one trainer can
   * serve many rounds.
   *
   * @throws IllegalArgumentException if the state belongs to another network or training config
   */
  public void load(TrainingState state) {
    if (!net.equals(state.network()) || !cfg.equals(state.training())) {
      throw new IllegalArgumentException("the state belongs to another network or training configuration");
    }
    assign(params, state.student());
    if (teacher != null) {
      assign(Gradients.trainables(teacher), state.teacher());
    }
    step = state.step();
    optimiser.restore(state.adamSteps(), state.firstMoments(), state.secondMoments());
  }

  private static void assign(Map<String, INDArray> live, Map<String, INDArray> values) {
    if (!live.keySet().equals(values.keySet())) {
      throw new IllegalArgumentException("the state's parameters differ from the graph's");
    }
    live.forEach((k, a) -> a.assign(values.get(k)));
  }

  private static Map<String, INDArray> copy(Map<String, INDArray> m) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    m.forEach((k, a) -> out.put(k, a.dup()));
    return out;
  }

  /** The random source of step {@code t} in stream {@code stream}: a function of these three only. */
  static SplittableRandom random(long seed, long stream, long t) {
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + t * 0xBF58476D1CE4E5B9L
        + stream * 0x94D049BB133111EBL + 1);
  }

  /**
   * One optimisation step.
   *
   * @param source exactly {@code batch} labelled source crops
   * @param target exactly {@code batch} target crops (ignored in source-only mode)
   */
  public StepResult step(List<Sample> source, List<Sample> target) {
    long t0 = System.nanoTime();
    if (source.size() != cfg.batch() || (cfg.usesTarget() && target.size() != cfg.batch())) {
      throw new IllegalArgumentException("a step takes " + cfg.batch() + " source"
          + (cfg.usesTarget() ? " and " + cfg.batch() + " target" : "") + " crops");
    }
    SplittableRandom rnd = random(cfg.seed(), stream, step);
    List<Row> batch = new ArrayList<>();
    for (Sample s : source) {
      batch.add(labelled(aug(s, rnd), rnd));
    }
    if (cfg.usesTarget()) {
      List<Sample> aug = new ArrayList<>();
      for (Sample s : target) {
        aug.add(aug(s, rnd));
      }
      if (cfg.mode() == Mode.ORACLE) {
        for (Sample s : aug) {
          batch.add(labelled(s, rnd));
        }
      } else {
        List<Row> pseudo = pseudoLabelled(aug, rnd);
        if (cfg.balancedPseudoLabels()) {
          balance(pseudo, (long) source.size() * net.imageSize() * net.imageSize());
        }
        batch.addAll(pseudo);
      }
    }
    Map<String, INDArray> ph = placeholders(batch);
    List<String> outs = List.of(TrainingLoss.LOSS, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS);
    var og = student.gradientsAndOutputs(arrays, ph, queries > 0
        ? List.of(TrainingLoss.LOSS, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS, TrainingLoss.PCL_LOSS)
        : outs);
    double loss = og.getOutputs().get(TrainingLoss.LOSS).getDouble(0);
    if (!Double.isFinite(loss)) {
      throw new PromptDasException("training diverged at step " + (step + 1) + ": loss is " + loss
          + " (lower the learning rate; the last checkpoint is intact)");
    }
    double lr = cfg.learningRate(step);
    Map<String, INDArray> grads = og.getGradients();
    Map<String, INDArray> reached = new LinkedHashMap<>(); // e.g. no contrastive head without PCL
    params.forEach((k, v) -> {
      if (grads.get(k) != null && !ParamSpec.frozen(k)) {
        reached.put(k, v);
      }
    });
    optimiser.update(reached, grads, lr);
    if (teacher != null && !teacherHeld) {
      double decay = cfg.emaDecay(step);
      for (Map.Entry<String, INDArray> e : params.entrySet()) {
        if (!ParamSpec.frozen(e.getKey())) {
          teacher.getVariable(e.getKey()).getArr().muli(decay).addi(e.getValue().mul(1 - decay));
        }
      }
    }
    step++;
    double pcl = queries > 0 ? og.getOutputs().get(TrainingLoss.PCL_LOSS).getDouble(0) : 0;
    StepResult result = new StepResult(step, lr, loss, og.getOutputs().get(TrainingLoss.SEG_LOSS).getDouble(0),
        og.getOutputs().get(TrainingLoss.DET_LOSS).getDouble(0), pcl, (System.nanoTime() - t0) / 1e9);
    // ND4J frees the step's off-heap buffers only once their Java objects are collected; without
    // this the next step allocates fresh memory and runs slower
    System.gc();
    return result;
  }

  private Sample aug(Sample s, SplittableRandom rnd) {
    return cfg.augment() ? Augment.apply(s, rnd) : new Sample(s.image().copy(),
        s.label() == null ? null : s.label().copy(), s.points());
  }

  /** Everything one row of the batch contributes. */
  private record Row(IntImage image, float[] segTarget, float[] segWeight, float[] density,
      boolean detSupervised, List<Point> prompts, int sparsePrompts, List<Point> queries,
      List<Point> backgrounds) {}

  private Row labelled(Sample s, SplittableRandom rnd) {
    IntImage label = s.label();
    if (label == null) {
      throw new IllegalArgumentException("a labelled crop is needed here (source or oracle)");
    }
    Components inst = Instances.of(label);
    List<Point> centres = CentrePoints.of(inst);
    int n = s.image().width();
    float[] seg = new float[n * n];
    for (int i = 0; i < seg.length; i++) {
      seg[i] = label.data()[i] != 0 ? 1 : 0;
    }
    float[] ones = new float[n * n];
    java.util.Arrays.fill(ones, 1);
    List<Point> shuffled = new ArrayList<>(centres);
    java.util.Collections.shuffle(shuffled, new java.util.Random(rnd.nextLong()));
    int max = Math.min(centres.size(), slots);
    int ns = cfg.prompted(step, rnd) && max > 0 ? 1 + rnd.nextInt(max) : 0;
    return new Row(s.image(), seg, ones, DensityMap.render(centres, n, n, cfg.sigma()), true,
        new ArrayList<>(shuffled.subList(0, ns)), 0, List.of(), List.of());
  }

  private List<Row> pseudoLabelled(List<Sample> crops, SplittableRandom rnd) {
    int n = net.imageSize();
    List<IntImage> images = crops.stream().map(Sample::image).toList();
    List<List<Point>> teacherPrompts = new ArrayList<>();
    for (Sample s : crops) {
      teacherPrompts.add(cfg.mode() == Mode.WDA ? limit(s.points(), slots) : List.of());
    }
    Map<String, INDArray> tp = new HashMap<>();
    tp.put(PromptDasGraph.IMAGE, PromptDasModel.normalise(images, n));
    tp.put(PromptDasGraph.POINTS, points(teacherPrompts, slots, List.of(), 0));
    int[] valid = teacherPrompts.stream().mapToInt(List::size).toArray();
    tp.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, slots, 0, DataType.FLOAT));
    tp.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, slots, 0, DataType.FLOAT));
    Map<String, INDArray> out = arrays.output(teacher, tp, PromptDasGraph.SEG_LOGITS_FULL, PromptDasGraph.DET);
    INDArray prob = org.nd4j.linalg.ops.transforms.Transforms.sigmoid(out.get(PromptDasGraph.SEG_LOGITS_FULL), true);
    List<Row> rowsOut = new ArrayList<>();
    for (int i = 0; i < crops.size(); i++) {
      float[] p = prob.slice(i).dup('c').data().asFloat();
      float[] density = out.get(PromptDasGraph.DET).slice(i).dup('c').data().asFloat();
      List<Point> detected = new ArrayList<>();
      for (Peaks.Peak pk : Peaks.find(density, n, n, (float) cfg.peakThreshold(), 5, slots)) {
        detected.add(pk.point());
      }
      List<Point> sparse = cfg.mode() == Mode.WDA ? crops.get(i).points()
          : detected.stream().filter(q -> p[q.y() * n + q.x()] > cfg.foregroundConfidence()).toList();
      sparse = limit(sparse, slots);
      float[] segT = new float[n * n];
      float[] segW = new float[n * n];
      for (int k = 0; k < segT.length; k++) {
        segT[k] = p[k] > 0.5f ? 1 : 0;
        boolean confident = p[k] > cfg.foregroundConfidence() || p[k] < cfg.backgroundConfidence();
        segW[k] = cfg.segmentationPseudoLabels() && confident ? 1 : 0;
      }
      List<Point> targetPoints = new ArrayList<>(sparse);
      for (Point d : detected) {
        if (!near(d, targetPoints)) {
          targetPoints.add(d);
        }
      }
      boolean prompted = cfg.prompted(step, rnd) && cfg.trainingPrompts();
      List<Point> prompts = prompted ? limit(targetPoints, slots) : List.of();
      List<Point> q = new ArrayList<>();
      List<Point> bg = new ArrayList<>();
      boolean pcl = queries > 0 && prompted && !sparse.isEmpty();
      if (pcl) {
        contrastivePoints(p, n, rnd, q, bg);
      }
      IntImage view = cfg.strongTargetView() ? Augment.strongPhotometric(crops.get(i).image(), rnd)
          : crops.get(i).image();
      rowsOut.add(new Row(view, segT, segW,
          DensityMap.render(targetPoints, n, n, cfg.sigma()), cfg.detectionPseudoLabels(), prompts,
          pcl ? sparse.size() : 0, q, bg));
    }
    return rowsOut;
  }

  /**
   * Reweighs the confident pixels of pseudo-labelled rows so that the target's foreground and its
   * background each weigh half as much as the {@code sourcePixels} labelled pixels (each of weight
   * 1): the segmentation loss, a weighted mean, becomes half the source's mean plus a quarter of
   * each target class's mean ({@link TrainConfig#balancedPseudoLabels}).
   */
  private static void balance(List<Row> rows, long sourcePixels) {
    balance(rows.stream().map(Row::segTarget).toList(), rows.stream().map(Row::segWeight).toList(), sourcePixels);
  }

  /** {@link #balance(List, long)} on the rows' targets and weights (the weights are changed). */
  static void balance(List<float[]> targets, List<float[]> weights, long sourcePixels) {
    double fg = 0;
    double bg = 0;
    for (int i = 0; i < targets.size(); i++) {
      float[] t = targets.get(i);
      float[] w = weights.get(i);
      for (int k = 0; k < w.length; k++) {
        if (w[k] > 0) {
          fg += t[k];
          bg += 1 - t[k];
        }
      }
    }
    float wf = fg > 0 ? (float) (sourcePixels / (2 * fg)) : 0;
    float wb = bg > 0 ? (float) (sourcePixels / (2 * bg)) : 0;
    for (int i = 0; i < targets.size(); i++) {
      float[] t = targets.get(i);
      float[] w = weights.get(i);
      for (int k = 0; k < w.length; k++) {
        if (w[k] > 0) {
          w[k] = t[k] > 0 ? wf : wb;
        }
      }
    }
  }

  /** Up to 3 points in each confident instance (queries) and N^n confident background points. */
  private void contrastivePoints(float[] p, int n, SplittableRandom rnd, List<Point> q, List<Point> bg) {
    IntImage fg = new IntImage(n, n);
    List<Integer> background = new ArrayList<>();
    for (int k = 0; k < p.length; k++) {
      if (p[k] > cfg.foregroundConfidence()) {
        fg.data()[k] = 1;
      } else if (p[k] < cfg.backgroundConfidence()) {
        background.add(k);
      }
    }
    Components cc = ConnectedComponents.label(fg, Connectivity.EIGHT);
    List<List<Integer>> members = new ArrayList<>();
    for (int c = 0; c < cc.count(); c++) {
      members.add(new ArrayList<>());
    }
    for (int k = 0; k < p.length; k++) {
      int l = cc.labels().data()[k];
      if (l > 0) {
        members.get(l - 1).add(k);
      }
    }
    for (List<Integer> m : members) {
      for (int j = 0; j < cfg.queriesPerInstance() && q.size() < queries; j++) {
        int k = m.get(rnd.nextInt(m.size()));
        q.add(new Point(k % n, k / n));
      }
    }
    for (int j = 0; j < backgrounds && !background.isEmpty(); j++) {
      int k = background.get(rnd.nextInt(background.size()));
      bg.add(new Point(k % n, k / n));
    }
  }

  private static boolean near(Point a, List<Point> others) {
    for (Point o : others) {
      if (Math.abs(o.x() - a.x()) <= 2 && Math.abs(o.y() - a.y()) <= 2) {
        return true;
      }
    }
    return false;
  }

  private static List<Point> limit(List<Point> pts, int max) {
    return pts.size() <= max ? pts : new ArrayList<>(pts.subList(0, max));
  }

  private Map<String, INDArray> placeholders(List<Row> batch) {
    int n = net.imageSize();
    int b = batch.size();
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(PromptDasGraph.IMAGE, PromptDasModel.normalise(batch.stream().map(Row::image).toList(), n));
    List<List<Point>> prompts = batch.stream().map(Row::prompts).toList();
    List<List<Point>> extras = new ArrayList<>();
    INDArray promptW = Nd4j.zeros(DataType.FLOAT, b, slots);
    INDArray queryW = Nd4j.zeros(DataType.FLOAT, b, Math.max(1, queries));
    INDArray bgW = Nd4j.zeros(DataType.FLOAT, b, Math.max(1, backgrounds));
    for (int i = 0; i < b; i++) {
      Row r = batch.get(i);
      List<Point> e = new ArrayList<>(r.queries());
      for (int k = 0; k < queries; k++) {
        if (k < r.queries().size()) {
          queryW.putScalar(i, k, 1);
        } else {
          e.add(new Point(0, 0));
        }
      }
      e = new ArrayList<>(e.subList(0, queries));
      for (int k = 0; k < backgrounds; k++) {
        if (k < r.backgrounds().size()) {
          e.add(r.backgrounds().get(k));
          bgW.putScalar(i, k, 1);
        } else {
          e.add(new Point(0, 0));
        }
      }
      extras.add(e);
      for (int k = 0; k < r.sparsePrompts(); k++) {
        promptW.putScalar(i, k, 1);
      }
    }
    ph.put(PromptDasGraph.POINTS, points(prompts, slots, extras, queries + backgrounds));
    int[] valid = prompts.stream().mapToInt(List::size).toArray();
    ph.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, slots, queries + backgrounds, DataType.FLOAT));
    ph.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, slots, queries + backgrounds, DataType.FLOAT));
    ph.put(TrainingLoss.SEG_TARGET, stack(batch.stream().map(Row::segTarget).toList(), b, n));
    ph.put(TrainingLoss.SEG_WEIGHT, stack(batch.stream().map(Row::segWeight).toList(), b, n));
    ph.put(TrainingLoss.DET_TARGET, stack(batch.stream().map(Row::density).toList(), b, n).reshape(b, 1, n, n));
    INDArray detW = Nd4j.zeros(DataType.FLOAT, b);
    for (int i = 0; i < b; i++) {
      detW.putScalar(i, batch.get(i).detSupervised() ? 1 : 0);
    }
    ph.put(TrainingLoss.DET_WEIGHT, detW);
    if (queries > 0) {
      ph.put(TrainingLoss.PROMPT_WEIGHT, promptW);
      ph.put(TrainingLoss.QUERY_WEIGHT, queryW);
      ph.put(TrainingLoss.BACKGROUND_WEIGHT, bgW);
    }
    return ph;
  }

  private static INDArray points(List<List<Point>> prompts, int slots, List<List<Point>> extras, int e) {
    int b = prompts.size();
    INDArray pts = Nd4j.zeros(DataType.FLOAT, b, slots + e, 2);
    for (int i = 0; i < b; i++) {
      List<Point> all = new ArrayList<>(prompts.get(i));
      while (all.size() < slots) {
        all.add(new Point(0, 0));
      }
      if (e > 0) {
        all.addAll(extras.get(i));
      }
      for (int k = 0; k < slots + e; k++) {
        pts.putScalar(new long[] {i, k, 0}, all.get(k).x());
        pts.putScalar(new long[] {i, k, 1}, all.get(k).y());
      }
    }
    return pts;
  }

  private static INDArray stack(List<float[]> maps, int b, int n) {
    INDArray out = Nd4j.create(DataType.FLOAT, b, n, n);
    for (int i = 0; i < b; i++) {
      out.slice(i).assign(Nd4j.create(maps.get(i), new long[] {n, n}, 'c'));
    }
    return out;
  }
}

package org.promptdas.model.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.loss.TrainingLoss;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.ParamSpec;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.PromptPoints;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.TrainingTargets.Row;

/**
 * Single-process Prompt-DAS training, one mean-teacher step at a time. Each step takes
 * {@code batch} source crops and, unless source-only, {@code batch} target crops, augments them,
 * builds every target from labels or from the teacher ({@link TrainingTargets}), packs the step's
 * placeholders ({@link StepInputs}), runs forward and backward through the student, applies AdamW
 * with the polynomial schedule and moves the teacher (EMA of the student).
 * <ul>
 *   <li>Source crops: BCE on the labels, MSE on their centre-point density map, and n_s random
 *       ground-truth centres as prompts: none for a share of the crops
 *       ({@link TrainConfig#promptFreeShare}), else n_s drawn from 1..min(centres, slots).</li>
 *   <li>Target crops (UDA/WDA): the teacher, prompted with the sparse points, gives segmentation
 *       pseudo-labels (confident pixels only) and detected points (peaks of its density map); the
 *       density target is built from the sparse and detected points; the sparse points plus the
 *       detected ones are the training prompts (none for the prompt-free share); PCL takes 3
 *       points per confident instance as queries and N^n background points. In UDA the teacher's confident detections stand in for
 *       the sparse points. Oracle: target crops are treated as labelled source crops.</li>
 * </ul>
 * Every random choice of step t derives from (seed, random stream, t), so two runs with the same
 * seed (and {@link Execution#shards}) give bit-identical parameters and a run resumed from a
 * checkpoint ({@link #state}, {@link #from}) continues exactly. With several shards the student
 * and the teacher exist once per shard (graphs for {@code batch / shards} crops each, their weights
 * kept equal to the first shard's), each step's rows and the teacher's crops are split into
 * contiguous shards that run side by side, and the shards' gradients are added. Not thread-safe.
 */
public final class Trainer {
  private final NetworkConfig net;
  private final TrainConfig cfg;
  private final int rows;
  private final int slots;
  private final int queries;
  private final int backgrounds;
  /**
   * Steps between garbage collections. A step frees its arrays itself ({@link Engine#release}); what
   * it cannot reach (SameDiff's per-run op contexts and shape buffers, off-heap) goes only when
   * collected, so without a GC the resident memory grows while a large heap stays idle. One GC per
   * ten steps keeps it flat at a tenth of the cost of one per step.
   */
  static final int GC_EVERY = 10;
  private final int shards;
  /** The student, once per shard; the first one's arrays are the live parameters. */
  private final List<StudentGraph> students = new ArrayList<>();
  /** The teacher's graph, once per shard (none without pseudo-labels); the first one's arrays are the live ones. */
  private final List<SameDiff> teachers = new ArrayList<>();
  /** Each shard's student weights by name (live arrays; the first shard's are {@link #params}). */
  private final List<Map<String, INDArray>> studentWeights = new ArrayList<>();
  /**
   * Each shard's teacher weights by name (live arrays), none without a teacher; one map and no graph
   * for an averaged model that makes no pseudo-labels ({@link TrainConfig#averagedModel}).
   */
  private final List<Map<String, INDArray>> teacherWeights = new ArrayList<>();
  /** One engine per shard: its student and teacher run one after the other on its array cache. */
  private final List<Engine> engines = new ArrayList<>();
  private final Map<String, INDArray> params = new LinkedHashMap<>();
  private final TrainingTargets targets;
  private final AdamW optimiser;
  private long step;
  private long stream;
  private boolean teacherHeld;

  public Trainer(Weights init, TrainConfig cfg) {
    this(init, cfg, Execution.PLAIN);
  }

  /**
   * A trainer running its steps as {@code execution} says.
   *
   * @throws IllegalArgumentException if the shards do not divide the batch
   */
  public Trainer(Weights init, TrainConfig cfg, Execution execution) {
    if (cfg.batch() % execution.shards() != 0) {
      throw new IllegalArgumentException(execution.shards() + " shards do not divide a batch of " + cfg.batch());
    }
    this.shards = execution.shards();
    this.net = init.config();
    this.cfg = cfg;
    this.rows = cfg.usesTarget() ? 2 * cfg.batch() : cfg.batch();
    this.slots = cfg.maxPrompts();
    boolean pcl = cfg.contrastive() && cfg.makesPseudoLabels();
    this.queries = pcl ? cfg.maxQueries() : 0;
    this.backgrounds = pcl ? cfg.backgroundPoints() : 0;
    for (int i = 0; i < shards; i++) {
      StudentGraph student = StudentGraph.build(init, rows / shards, slots, queries + backgrounds,
          execution.recomputeEncoder());
      TrainingLoss.attach(student.head(), net, rows / shards, slots, queries, backgrounds, cfg.losses(),
          DataType.FLOAT, shards > 1 ? TrainingLoss.Normalisers.GIVEN : TrainingLoss.Normalisers.OWN_ROWS);
      student.prepare();
      students.add(student);
      studentWeights.add(student.trainables());
      if (cfg.makesPseudoLabels()) {
        SameDiff teacher = PromptDasGraph.buildInference(init, cfg.batch() / shards, slots, 0, DataType.FLOAT);
        teachers.add(teacher);
        teacherWeights.add(Gradients.trainables(teacher));
      }
      engines.add(new Engine());
    }
    params.putAll(studentWeights.get(0));
    if (cfg.hasTeacher() && teachers.isEmpty()) {
      teacherWeights.add(copy(params));
    }
    this.targets = new TrainingTargets(cfg, net.imageSize(), queries, backgrounds);
    this.optimiser = new AdamW(TrainConfig.ADAM_BETA1, TrainConfig.ADAM_BETA2, TrainConfig.ADAM_EPSILON,
        cfg.weightDecay(), Weights::decays);
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
    return teacherWeights.isEmpty() ? studentWeights() : Weights.fromGraph(net, teacherWeights.get(0));
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
        teacherWeights.isEmpty() ? s : copy(teacherWeights.get(0)),
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
    return from(state, Execution.PLAIN);
  }

  /** A trainer continuing from {@code state}, running its steps as {@code execution} says. */
  public static Trainer from(TrainingState state, Execution execution) {
    Trainer t = new Trainer(Weights.fromGraph(state.network(), state.student()), state.training(),
        execution);
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
    if (!teacherWeights.isEmpty()) {
      assign(teacherWeights.get(0), state.teacher());
    }
    mirrorShards();
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
      batch.add(targets.labelled(strongSource(aug(s, rnd), rnd), step, rnd));
    }
    if (cfg.usesTarget()) {
      List<Sample> aug = new ArrayList<>();
      for (Sample s : target) {
        aug.add(aug(s, rnd));
      }
      if (cfg.mode() == Mode.ORACLE) {
        for (Sample s : aug) {
          batch.add(targets.labelled(s, step, rnd));
        }
      } else {
        List<Row> pseudo = pseudoLabelled(aug, rnd);
        if (cfg.balancedPseudoLabels()) {
          double share = cfg.pseudoForegroundShare() > 0 ? cfg.pseudoForegroundShare()
              : TrainingTargets.foregroundShare(batch);
          TrainingTargets.balance(pseudo, (long) source.size() * net.imageSize() * net.imageSize(), share);
        }
        batch.addAll(pseudo);
      }
    }
    List<String> outs = queries > 0
        ? List.of(TrainingLoss.LOSS, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS, TrainingLoss.PCL_LOSS)
        : List.of(TrainingLoss.LOSS, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS);
    Map<String, INDArray> norms = shards > 1 ? StepInputs.normalisers(batch, net.imageSize(), queries) : Map.of();
    List<OutAndGrad> parts = Engine.inShards(batch, shards, (i, from, part) -> {
      Map<String, INDArray> ph = StepInputs.of(part, net.imageSize(), slots, queries, backgrounds);
      OutAndGrad og = students.get(i).gradientsAndOutputs(engines.get(i), with(ph, norms), outs);
      Engine.release(ph.values());
      return og;
    });
    Map<String, INDArray> grads = parts.get(0).getGradients();
    for (OutAndGrad p : parts.subList(1, shards)) {
      grads.forEach((k, g) -> g.addi(p.getGradients().get(k)));
    }
    Map<String, Double> losses = new HashMap<>();
    for (String o : outs) {
      losses.put(o, parts.stream().mapToDouble(p -> p.getOutputs().get(o).getDouble(0)).sum());
    }
    double loss = losses.get(TrainingLoss.LOSS);
    for (OutAndGrad p : parts) {
      Engine.release(p.getOutputs().values());
    }
    if (!Double.isFinite(loss)) {
      throw new PromptDasException("training diverged at step " + (step + 1) + ": loss is " + loss
          + " (lower the learning rate; the last checkpoint is intact)");
    }
    double lr = cfg.learningRate(step);
    applyGradients(grads, lr);
    mirrorShards();
    norms.values().forEach(INDArray::close);
    for (OutAndGrad p : parts) {
      Engine.release(p.getGradients().values());
    }
    step++;
    if (step % GC_EVERY == 0) {
      System.gc();
    }
    return new StepResult(step, lr, loss, losses.get(TrainingLoss.SEG_LOSS),
        losses.get(TrainingLoss.DET_LOSS), losses.getOrDefault(TrainingLoss.PCL_LOSS, 0.0),
        (System.nanoTime() - t0) / 1e9);
  }

  /** {@code ph} and {@code more} in one map ({@code ph}'s own arrays are freed apart from {@code more}). */
  private static Map<String, INDArray> with(Map<String, INDArray> ph, Map<String, INDArray> more) {
    Map<String, INDArray> all = new HashMap<>(ph);
    all.putAll(more);
    return all;
  }

  /**
   * AdamW on every trainable tensor the loss reached (e.g. no contrastive head without PCL; frozen
   * tensors never), then the teacher's EMA step unless it is held.
   */
  private void applyGradients(Map<String, INDArray> grads, double lr) {
    Map<String, INDArray> reached = new LinkedHashMap<>();
    params.forEach((k, v) -> {
      if (grads.get(k) != null && !ParamSpec.frozen(k)) {
        reached.put(k, v);
      }
    });
    optimiser.update(reached, grads, lr);
    if (!teacherWeights.isEmpty() && !teacherHeld) {
      Map<String, INDArray> teacher = teacherWeights.get(0);
      double decay = cfg.emaDecay(step);
      for (Map.Entry<String, INDArray> e : params.entrySet()) {
        if (!ParamSpec.frozen(e.getKey())) {
          INDArray scaled = e.getValue().mul(1 - decay);
          teacher.get(e.getKey()).muli(decay).addi(scaled);
          scaled.close();
        }
      }
    }
  }

  /** Copies the first shard's student and teacher weights into the other shards' graphs. */
  private void mirrorShards() {
    for (int i = 1; i < shards; i++) {
      Map<String, INDArray> student = studentWeights.get(i);
      params.forEach((k, v) -> student.get(k).assign(v));
      if (i < teacherWeights.size()) {
        Map<String, INDArray> teacher = teacherWeights.get(i);
        teacherWeights.get(0).forEach((k, v) -> teacher.get(k).assign(v));
      }
    }
  }

  /**
   * {@code s} in the strong photometric view for {@link TrainConfig#strongSourceShare} of the source
   * crops; draws nothing when the share is 0, so that runs without it keep their random stream.
   */
  private Sample strongSource(Sample s, SplittableRandom rnd) {
    if (cfg.strongSourceShare() == 0 || rnd.nextDouble() >= cfg.strongSourceShare()) {
      return s;
    }
    return new Sample(Augment.strongPhotometric(s.image(), rnd), s.label(), s.points());
  }

  private Sample aug(Sample s, SplittableRandom rnd) {
    return cfg.augment() ? Augment.apply(s, rnd) : new Sample(s.image().copy(),
        s.label() == null ? null : s.label().copy(), s.points());
  }

  /**
   * The pseudo-labelled rows of the target crops, from one forward pass of the teacher (its shards
   * side by side); the rows are built in crop order, drawing from {@code rnd}.
   */
  private List<Row> pseudoLabelled(List<Sample> crops, SplittableRandom rnd) {
    List<Row> rowsOut = new ArrayList<>();
    int i = 0;
    for (List<float[][]> part : Engine.inShards(crops, shards,
        (shard, from, part) -> teacherMaps(teachers.get(shard), engines.get(shard), part))) {
      for (float[][] maps : part) {
        rowsOut.add(targets.pseudoLabelled(crops.get(i++), maps[0], maps[1], step, rnd));
      }
    }
    return rowsOut;
  }

  /** The teacher's probability and density map of each crop, from one forward pass of {@code teacher}. */
  private List<float[][]> teacherMaps(SameDiff teacher, Engine engine, List<Sample> crops) {
    int n = net.imageSize();
    Map<String, INDArray> tp = new HashMap<>();
    tp.put(PromptDasGraph.IMAGE, PromptDasModel.normalise(crops.stream().map(Sample::image).toList(), n));
    PromptPoints.put(tp, crops.stream().map(targets::teacherPrompts).toList(), slots, null, 0, DataType.FLOAT);
    Map<String, INDArray> out = engine.output(teacher, tp, PromptDasGraph.SEG_LOGITS_FULL, PromptDasGraph.DET);
    PromptDasModel.Prediction p = PromptDasModel.Prediction.of(out.get(PromptDasGraph.SEG_LOGITS_FULL),
        out.get(PromptDasGraph.DET));
    List<float[][]> maps = new ArrayList<>();
    for (int i = 0; i < crops.size(); i++) {
      maps.add(new float[][] {p.probability(i), p.density(i)});
    }
    p.close();
    Engine.release(out.values());
    Engine.release(tp.values());
    return maps;
  }
}

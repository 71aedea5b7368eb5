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
import org.nd4j.linalg.ops.transforms.Transforms;
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
  private final TrainingTargets targets;
  private final AdamW optimiser;
  private final Engine engine = new Engine();
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
      batch.add(targets.labelled(aug(s, rnd), step, rnd));
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
          TrainingTargets.balance(pseudo, (long) source.size() * net.imageSize() * net.imageSize());
        }
        batch.addAll(pseudo);
      }
    }
    Map<String, INDArray> ph = StepInputs.of(batch, net.imageSize(), slots, queries, backgrounds);
    List<String> outs = List.of(TrainingLoss.LOSS, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS);
    var og = student.gradientsAndOutputs(engine, ph, queries > 0
        ? List.of(TrainingLoss.LOSS, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS, TrainingLoss.PCL_LOSS)
        : outs);
    double loss = og.getOutputs().get(TrainingLoss.LOSS).getDouble(0);
    if (!Double.isFinite(loss)) {
      throw new PromptDasException("training diverged at step " + (step + 1) + ": loss is " + loss
          + " (lower the learning rate; the last checkpoint is intact)");
    }
    double lr = cfg.learningRate(step);
    applyGradients(og.getGradients(), lr);
    step++;
    double pcl = queries > 0 ? og.getOutputs().get(TrainingLoss.PCL_LOSS).getDouble(0) : 0;
    StepResult result = new StepResult(step, lr, loss, og.getOutputs().get(TrainingLoss.SEG_LOSS).getDouble(0),
        og.getOutputs().get(TrainingLoss.DET_LOSS).getDouble(0), pcl, (System.nanoTime() - t0) / 1e9);
    // ND4J frees the step's off-heap buffers only once their Java objects are collected; without
    // this the next step allocates fresh memory and runs slower
    System.gc();
    return result;
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
    if (teacher != null && !teacherHeld) {
      double decay = cfg.emaDecay(step);
      for (Map.Entry<String, INDArray> e : params.entrySet()) {
        if (!ParamSpec.frozen(e.getKey())) {
          teacher.getVariable(e.getKey()).getArr().muli(decay).addi(e.getValue().mul(1 - decay));
        }
      }
    }
  }

  private Sample aug(Sample s, SplittableRandom rnd) {
    return cfg.augment() ? Augment.apply(s, rnd) : new Sample(s.image().copy(),
        s.label() == null ? null : s.label().copy(), s.points());
  }

  /** The pseudo-labelled rows of the target crops, from one forward pass of the teacher. */
  private List<Row> pseudoLabelled(List<Sample> crops, SplittableRandom rnd) {
    int n = net.imageSize();
    Map<String, INDArray> tp = new HashMap<>();
    tp.put(PromptDasGraph.IMAGE, PromptDasModel.normalise(crops.stream().map(Sample::image).toList(), n));
    PromptPoints.put(tp, crops.stream().map(targets::teacherPrompts).toList(), slots, null, 0, DataType.FLOAT);
    Map<String, INDArray> out = engine.output(teacher, tp, PromptDasGraph.SEG_LOGITS_FULL, PromptDasGraph.DET);
    INDArray prob = Transforms.sigmoid(out.get(PromptDasGraph.SEG_LOGITS_FULL), true);
    List<Row> rowsOut = new ArrayList<>();
    for (int i = 0; i < crops.size(); i++) {
      float[] p = prob.slice(i).dup('c').data().asFloat();
      float[] density = out.get(PromptDasGraph.DET).slice(i).dup('c').data().asFloat();
      rowsOut.add(targets.pseudoLabelled(crops.get(i), p, density, step, rnd));
    }
    return rowsOut;
  }
}

package org.promptdas.model.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.promptdas.model.loss.LossWeights;

/**
 * Everything that decides a training run besides the network and the data; the paper's settings
 * are the defaults ({@link #paper}). The four ablation switches of the paper's Table 2 are
 * independent: detection pseudo-labels, segmentation pseudo-labels, target training prompts, PCL.
 *
 * @param mode source-only, UDA, WDA or oracle
 * @param detectionPseudoLabels supervise the target density map with the teacher's peaks plus the
 *     sparse points
 * @param segmentationPseudoLabels supervise target pixels where the teacher is confident
 * @param trainingPrompts give the sparse points and the teacher's confident peaks as target prompts
 * @param contrastive the prompt-guided contrastive loss (needs sparse or pseudo-sparse points)
 * @param batch source crops per step (as many target crops join them when the mode uses target data)
 * @param steps total optimisation steps (for the learning-rate schedule)
 * @param learningRate AdamW's initial learning rate (paper: 1e-5)
 * @param power polynomial decay power (paper: 0.9)
 * @param weightDecay AdamW's decoupled weight decay
 * @param emaAlpha the teacher's EMA decay cap: decay = min(1 - 1/(step + 1), alpha)
 * @param maxPrompts prompt slots per crop (n_s is drawn from 0..min(instances, maxPrompts))
 * @param queriesPerInstance foreground queries per confident target instance (paper: 3)
 * @param maxQueries foreground query slots per crop
 * @param backgroundPoints background points per crop, N^n (paper: 256)
 * @param foregroundConfidence delta_f (paper: 0.9)
 * @param backgroundConfidence delta_b (paper: 0.1)
 * @param peakThreshold density threshold for detected points (authors: 125/255)
 * @param sigma Gaussian sigma of the density maps in px
 * @param augment flips, 90-degree rotations and intensity jitter
 * @param losses loss weights and temperature
 * @param seed every random choice derives from it (and the step)
 * @param promptFreeShare the probability that a crop gets no prompt at all, whatever it holds;
 *     otherwise it is prompted with a random subset of 1..min(instances, maxPrompts) of its points.
 *     Testing without prompts is then in distribution however many instances the crops hold.
 * @param promptFreeSteps steps at the start in which no crop is prompted
 * @param warmupSteps steps over which the learning rate rises linearly to its initial value
 * @param balancedPseudoLabels weigh the target's confident foreground and background pixels
 *     equally (half of the target's weight each, the target as much as the source) instead of
 *     pixel by pixel: with a source model that is rarely confident about foreground on the
 *     target, plain pseudo-labels are almost all background and pull the student and its teacher
 *     to segmenting nothing
 * @param strongTargetView the student sees a target crop in a strong photometric view
 *     ({@link Augment#strongPhotometric}) of the crop the teacher labelled
 * @param pseudoForegroundShare with balanced pseudo-labels, the share of the target's weight that
 *     its confident foreground pixels get (the background the rest); 0: the foreground share of
 *     the step's labelled source pixels, so that the target is weighed towards the source's class
 *     prior rather than towards half and half, which moves the student's decision threshold
 *     towards foreground
 * @param strongSourceShare the probability that a source crop is seen in the strong photometric
 *     view, so that what the network learns from the labels holds for other contrasts and noise
 * @param averagedModel source-only and oracle runs keep an EMA of the student as their model (the
 *     teacher, with {@link #emaAlpha}), which smooths the swings of a model trained from scratch;
 *     UDA and WDA always have one
 */
public record TrainConfig(Mode mode, boolean detectionPseudoLabels, boolean segmentationPseudoLabels,
    boolean trainingPrompts, boolean contrastive, int batch, int steps, double learningRate,
    double power, double weightDecay, double emaAlpha, int maxPrompts, int queriesPerInstance,
    int maxQueries, int backgroundPoints, double foregroundConfidence, double backgroundConfidence,
    double peakThreshold, double sigma, boolean augment, LossWeights losses, long seed,
    double promptFreeShare, int promptFreeSteps, int warmupSteps, boolean balancedPseudoLabels,
    boolean strongTargetView, double pseudoForegroundShare, double strongSourceShare,
    boolean averagedModel) {

  public TrainConfig {
    if (!(promptFreeShare >= 0 && promptFreeShare <= 1) || promptFreeSteps < 0 || warmupSteps < 0) {
      throw new IllegalArgumentException("prompt-free share must be in [0, 1], prompt-free and warm-up steps >= 0");
    }
    if (!(pseudoForegroundShare >= 0 && pseudoForegroundShare < 1) || !(strongSourceShare >= 0 && strongSourceShare <= 1)) {
      throw new IllegalArgumentException("pseudo-label foreground share must be in [0, 1), strong source share in [0, 1]");
    }
    if (!(peakThreshold > 0 && peakThreshold <= 1)) {
      throw new IllegalArgumentException("peak threshold must be in (0, 1], got " + peakThreshold);
    }
    if (!(emaAlpha >= 0 && emaAlpha < 1)) {
      throw new IllegalArgumentException("EMA alpha must be in [0, 1), got " + emaAlpha);
    }
  }

  /** AdamW's moment decays and epsilon (PyTorch's defaults, the authors' optimiser). */
  public static final double ADAM_BETA1 = 0.9;
  public static final double ADAM_BETA2 = 0.999;
  public static final double ADAM_EPSILON = 1e-8;

  /** The share of prompt-free crops of every preset. */
  public static final double PROMPT_FREE_SHARE = 0.5;

  /** The paper's training (full model, all four switches on) in the given mode. */
  public static TrainConfig paper(Mode mode, int steps, long seed) {
    return new TrainConfig(mode, true, true, true, true, 2, steps, 1e-5, 0.9, 0.01, 0.99, 16, 3,
        48, 256, 0.9, 0.1, 125.0 / 255, 4.0, true, LossWeights.defaults(), seed, PROMPT_FREE_SHARE, 0, 0,
        false, false, 0.5, 0, false);
  }

  /**
   * Settings for the tiny network on 64 px crops: a larger learning rate (1e-3), fewer prompt,
   * query and background slots (8, 12, 24) and a narrower density Gaussian (3 px).
   */
  public static TrainConfig tiny(Mode mode, int steps, long seed) {
    return paper(mode, steps, seed).edit(c -> {
      c.batch = 1;
      c.learningRate = 1e-3;
      c.maxPrompts = 8;
      c.maxQueries = 12;
      c.backgroundPoints = 24;
      c.sigma = 3.0;
    });
  }

  /**
   * Settings for the {@code cpu} network trained from scratch: {@link #tiny}'s, at batch 8 with a
   * linear warm-up over the first {@value #CPU_WARMUP} steps, balanced pseudo-labels and a strong
   * view of the target crops for the student.
   */
  public static TrainConfig cpu(Mode mode, int steps, long seed) {
    return tiny(mode, steps, seed).with(true, true, true, true, 8, 1e-3).withWarmup(Math.min(CPU_WARMUP, steps / 10))
        .withTargetRecipe(true, 0.5, true);
  }

  /** Warm-up steps of the {@link #cpu} preset (at most a tenth of the run). */
  static final int CPU_WARMUP = 200;

  /**
   * The training preset of a network preset ({@link org.promptdas.model.network.NetworkConfig#named}):
   * the paper's settings for the paper's network, {@link #cpu} for the cpu network, {@link #tiny}
   * for the other CPU-size ones.
   */
  public static TrainConfig forNetwork(String network, Mode mode, int steps, long seed) {
    return switch (network) {
      case "paper" -> paper(mode, steps, seed);
      case "cpu" -> cpu(mode, steps, seed);
      default -> tiny(mode, steps, seed);
    };
  }

  /** These settings with the four ablation switches, the batch size and the learning rate replaced. */
  public TrainConfig with(boolean det, boolean seg, boolean prompts, boolean pcl, int batchSize, double lr) {
    return edit(c -> {
      c.detectionPseudoLabels = det;
      c.segmentationPseudoLabels = seg;
      c.trainingPrompts = prompts;
      c.contrastive = pcl;
      c.batch = batchSize;
      c.learningRate = lr;
    });
  }

  /** These settings with the prompt rule replaced ({@link #promptFreeShare}, {@link #promptFreeSteps}). */
  public TrainConfig withPromptFree(double share, int steps) {
    return edit(c -> {
      c.promptFreeShare = share;
      c.promptFreeSteps = steps;
    });
  }

  /** These settings with {@code steps} warm-up steps. */
  public TrainConfig withWarmup(int steps) {
    return edit(c -> c.warmupSteps = steps);
  }

  /**
   * These settings with pseudo-labels balanced or not ({@link #balancedPseudoLabels}) with
   * {@code foregroundShare} of the target's weight on its foreground ({@link #pseudoForegroundShare}),
   * and the student's target view strong or plain ({@link #strongTargetView}).
   */
  public TrainConfig withTargetRecipe(boolean balanced, double foregroundShare, boolean strongView) {
    return edit(c -> {
      c.balancedPseudoLabels = balanced;
      c.pseudoForegroundShare = foregroundShare;
      c.strongTargetView = strongView;
    });
  }

  /** These settings with {@link #peakThreshold}, the density a detected point reaches, replaced. */
  public TrainConfig withPeakThreshold(double threshold) {
    return edit(c -> c.peakThreshold = threshold);
  }

  /** These settings with {@link #strongSourceShare} replaced. */
  public TrainConfig withStrongSourceShare(double share) {
    return edit(c -> c.strongSourceShare = share);
  }

  /**
   * These settings with the teacher's confidence thresholds replaced: target pixels above
   * {@code foreground} are foreground pseudo-labels, below {@code background} background, the rest
   * unlabelled.
   */
  public TrainConfig withConfidence(double foreground, double background) {
    return edit(c -> {
      c.foregroundConfidence = foreground;
      c.backgroundConfidence = background;
    });
  }

  /** True when target crops take part in a step. */
  public boolean usesTarget() {
    return mode != Mode.SOURCE_ONLY;
  }

  /** True when a mean teacher makes pseudo-labels (UDA, WDA). */
  public boolean makesPseudoLabels() {
    return usesTarget() && mode != Mode.ORACLE;
  }

  /**
   * True when the run keeps an EMA of the student (its teacher), which is then the run's model: UDA
   * and WDA always, source-only and oracle with {@link #averagedModel}.
   */
  public boolean hasTeacher() {
    return makesPseudoLabels() || averagedModel;
  }

  /** These settings with the averaged model ({@link #averagedModel}) and the EMA decay cap replaced. */
  public TrainConfig withAveraging(boolean averaged, double alpha) {
    return edit(c -> {
      c.averagedModel = averaged;
      c.emaAlpha = alpha;
    });
  }

  /** These settings in another mode. */
  public TrainConfig withMode(Mode m) {
    return edit(c -> c.mode = m);
  }

  /**
   * Learning rate at {@code step}: a linear rise over the warm-up steps (step t at (t + 1) / warm-up
   * of the initial rate), times the polynomial decay to 0 at {@link #steps}.
   */
  public double learningRate(long step) {
    double warm = step < warmupSteps ? (step + 1.0) / warmupSteps : 1;
    return warm * learningRate * Math.pow(Math.max(0, 1 - (double) step / steps), power);
  }

  /**
   * Whether a crop of step {@code step} is prompted: never in the first {@link #promptFreeSteps},
   * else with probability 1 - {@link #promptFreeShare}, whatever the crop holds. Draws one number
   * from {@code rnd} whatever the answer, so later draws do not depend on it.
   */
  public boolean prompted(long step, SplittableRandom rnd) {
    return rnd.nextDouble() >= promptFreeShare && step >= promptFreeSteps;
  }

  /** The teacher's EMA decay at {@code step}. */
  public double emaDecay(long step) {
    return Math.min(1 - 1.0 / (step + 1), emaAlpha);
  }

  public String toJson() {
    try {
      return new ObjectMapper().writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads {@link #toJson}'s output. A setting missing from an older file reads as Java's default
   * (0, false), which is what those runs did, except {@link #pseudoForegroundShare}, whose 0 means
   * the source's prior: missing, it reads as the half those runs used.
   */
  public static TrainConfig fromJson(String json) {
    try {
      ObjectMapper mapper = new ObjectMapper();
      ObjectNode tree = (ObjectNode) mapper.readTree(json);
      if (!tree.has("pseudoForegroundShare")) {
        tree.put("pseudoForegroundShare", 0.5);
      }
      return mapper.treeToValue(tree, TrainConfig.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** These settings with the fields {@code change} sets on a mutable copy replaced (validated again). */
  private TrainConfig edit(Consumer<Fields> change) {
    Fields f = new Fields(this);
    change.accept(f);
    return f.build();
  }

  /** A mutable copy of every field, for {@link #edit}. */
  private static final class Fields {
    Mode mode;
    boolean detectionPseudoLabels;
    boolean segmentationPseudoLabels;
    boolean trainingPrompts;
    boolean contrastive;
    int batch;
    int steps;
    double learningRate;
    double power;
    double weightDecay;
    double emaAlpha;
    int maxPrompts;
    int queriesPerInstance;
    int maxQueries;
    int backgroundPoints;
    double foregroundConfidence;
    double backgroundConfidence;
    double peakThreshold;
    double sigma;
    boolean augment;
    LossWeights losses;
    long seed;
    double promptFreeShare;
    int promptFreeSteps;
    int warmupSteps;
    boolean balancedPseudoLabels;
    boolean strongTargetView;
    double pseudoForegroundShare;
    double strongSourceShare;
    boolean averagedModel;

    Fields(TrainConfig c) {
      mode = c.mode;
      detectionPseudoLabels = c.detectionPseudoLabels;
      segmentationPseudoLabels = c.segmentationPseudoLabels;
      trainingPrompts = c.trainingPrompts;
      contrastive = c.contrastive;
      batch = c.batch;
      steps = c.steps;
      learningRate = c.learningRate;
      power = c.power;
      weightDecay = c.weightDecay;
      emaAlpha = c.emaAlpha;
      maxPrompts = c.maxPrompts;
      queriesPerInstance = c.queriesPerInstance;
      maxQueries = c.maxQueries;
      backgroundPoints = c.backgroundPoints;
      foregroundConfidence = c.foregroundConfidence;
      backgroundConfidence = c.backgroundConfidence;
      peakThreshold = c.peakThreshold;
      sigma = c.sigma;
      augment = c.augment;
      losses = c.losses;
      seed = c.seed;
      promptFreeShare = c.promptFreeShare;
      promptFreeSteps = c.promptFreeSteps;
      warmupSteps = c.warmupSteps;
      balancedPseudoLabels = c.balancedPseudoLabels;
      strongTargetView = c.strongTargetView;
      pseudoForegroundShare = c.pseudoForegroundShare;
      strongSourceShare = c.strongSourceShare;
      averagedModel = c.averagedModel;
    }

    TrainConfig build() {
      return new TrainConfig(
      mode, detectionPseudoLabels, segmentationPseudoLabels, trainingPrompts, contrastive,
          batch, steps, learningRate, power, weightDecay, emaAlpha, maxPrompts,
          queriesPerInstance, maxQueries, backgroundPoints, foregroundConfidence,
          backgroundConfidence, peakThreshold, sigma, augment, losses, seed, promptFreeShare,
          promptFreeSteps, warmupSteps, balancedPseudoLabels, strongTargetView, pseudoForegroundShare,
          strongSourceShare, averagedModel);
    }
  }
}

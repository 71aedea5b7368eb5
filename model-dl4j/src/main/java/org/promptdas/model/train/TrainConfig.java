package org.promptdas.model.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 */
public record TrainConfig(Mode mode, boolean detectionPseudoLabels, boolean segmentationPseudoLabels,
    boolean trainingPrompts, boolean contrastive, int batch, int steps, double learningRate,
    double power, double weightDecay, double emaAlpha, int maxPrompts, int queriesPerInstance,
    int maxQueries, int backgroundPoints, double foregroundConfidence, double backgroundConfidence,
    double peakThreshold, double sigma, boolean augment, LossWeights losses, long seed) {

  /** The paper's training (full model, all four switches on) in the given mode. */
  public static TrainConfig paper(Mode mode, int steps, long seed) {
    return new TrainConfig(mode, true, true, true, true, 2, steps, 1e-5, 0.9, 0.01, 0.99, 16, 3,
        48, 256, 0.9, 0.1, 125.0 / 255, 4.0, true, LossWeights.defaults(), seed);
  }

  /**
   * Settings for the tiny network on 64 px crops: a larger learning rate (1e-3), fewer prompt,
   * query and background slots (8, 12, 24) and a narrower density Gaussian (3 px).
   */
  public static TrainConfig tiny(Mode mode, int steps, long seed) {
    TrainConfig p = paper(mode, steps, seed);
    return new TrainConfig(mode, true, true, true, true, 1, steps, 1e-3, p.power(), p.weightDecay(),
        p.emaAlpha(), 8, p.queriesPerInstance(), 12, 24, p.foregroundConfidence(),
        p.backgroundConfidence(), p.peakThreshold(), 3.0, true, p.losses(), seed);
  }

  /**
   * The training preset of a network preset ({@link org.promptdas.model.network.NetworkConfig#named}):
   * the paper's settings for the paper's network, {@link #tiny} for the CPU-size ones.
   */
  public static TrainConfig forNetwork(String network, Mode mode, int steps, long seed) {
    return network.equals("paper") ? paper(mode, steps, seed) : tiny(mode, steps, seed);
  }

  /** These settings with the four ablation switches, the batch size and the learning rate replaced. */
  public TrainConfig with(boolean det, boolean seg, boolean prompts, boolean pcl, int batchSize, double lr) {
    return new TrainConfig(mode, det, seg, prompts, pcl, batchSize, steps, lr, power, weightDecay,
        emaAlpha, maxPrompts, queriesPerInstance, maxQueries, backgroundPoints, foregroundConfidence,
        backgroundConfidence, peakThreshold, sigma, augment, losses, seed);
  }

  /** True when target crops take part in a step. */
  public boolean usesTarget() {
    return mode != Mode.SOURCE_ONLY;
  }

  /** True when a mean teacher makes pseudo-labels (UDA, WDA); source-only and oracle have none. */
  public boolean hasTeacher() {
    return usesTarget() && mode != Mode.ORACLE;
  }

  public TrainConfig withMode(Mode m) {
    return new TrainConfig(m, detectionPseudoLabels, segmentationPseudoLabels, trainingPrompts,
        contrastive, batch, steps, learningRate, power, weightDecay, emaAlpha, maxPrompts,
        queriesPerInstance, maxQueries, backgroundPoints, foregroundConfidence,
        backgroundConfidence, peakThreshold, sigma, augment, losses, seed);
  }

  /** Learning rate at {@code step}: polynomial decay to 0 at {@link #steps}. */
  public double learningRate(long step) {
    return learningRate * Math.pow(Math.max(0, 1 - (double) step / steps), power);
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

  public static TrainConfig fromJson(String json) {
    try {
      return new ObjectMapper().readValue(json, TrainConfig.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

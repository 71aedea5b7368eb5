package org.promptdas.model.loss;

/**
 * The weights of the three training losses and the contrastive temperature.
 *
 * @param segmentation weight of the masked binary cross-entropy (eq. 2)
 * @param detection weight of the density-map mean squared error (eq. 1)
 * @param contrastive weight of the prompt-guided contrastive loss (eq. 3); 0 switches PCL off
 * @param temperature tau of eq. 3
 */
public record LossWeights(double segmentation, double detection, double contrastive, double temperature) {
  public LossWeights {
    if (segmentation < 0 || detection < 0 || contrastive < 0 || !(temperature > 0)) {
      throw new IllegalArgumentException("loss weights must be >= 0 and the temperature > 0");
    }
  }

  public static LossWeights defaults() {
    return new LossWeights(1.0, 1.0, 0.1, 0.1);
  }
}

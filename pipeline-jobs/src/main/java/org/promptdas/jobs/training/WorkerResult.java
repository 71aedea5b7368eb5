package org.promptdas.jobs.training;

import java.io.Serializable;

/**
 * What workers send back from a round, summed on the driver in partition order ({@link Round}):
 * the element-wise sum of their flat states ({@link org.promptdas.model.train.Averaging#flatten}),
 * how many workers contributed, and the sums of their step losses, steps, crops and seconds.
 * {@link #plus} adds in place into the left operand and treats an empty result ({@link #empty})
 * as zero. Not thread-safe.
 */
public final class WorkerResult implements Serializable {
  private static final long serialVersionUID = 1L;
  float[] state;
  int workers;
  long steps;
  long crops;
  double loss;
  double segmentation;
  double detection;
  double contrastive;
  double seconds;
  double setupSeconds;

  public static WorkerResult empty() {
    return new WorkerResult();
  }

  /** Adds {@code other} into this result and returns this. */
  public WorkerResult plus(WorkerResult other) {
    if (other.state != null) {
      if (state == null) {
        state = other.state.clone();
      } else {
        if (state.length != other.state.length) {
          throw new IllegalStateException("workers returned states of different sizes");
        }
        for (int i = 0; i < state.length; i++) {
          state[i] += other.state[i];
        }
      }
    }
    workers += other.workers;
    steps += other.steps;
    crops += other.crops;
    loss += other.loss;
    segmentation += other.segmentation;
    detection += other.detection;
    contrastive += other.contrastive;
    seconds += other.seconds;
    setupSeconds += other.setupSeconds;
    return this;
  }

  public float[] state() {
    return state;
  }

  public int workers() {
    return workers;
  }

  public long steps() {
    return steps;
  }

  public long crops() {
    return crops;
  }

  /** Mean of the workers' step losses (total, then the three parts). */
  public double[] meanLosses() {
    double n = Math.max(1, steps);
    return new double[] {loss / n, segmentation / n, detection / n, contrastive / n};
  }

  /** Seconds of local steps, summed over workers. */
  public double seconds() {
    return seconds;
  }

  /**
   * Seconds workers spent around their steps (reading the state, loading it into a trainer,
   * flattening the result), summed over workers.
   */
  public double setupSeconds() {
    return setupSeconds;
  }
}

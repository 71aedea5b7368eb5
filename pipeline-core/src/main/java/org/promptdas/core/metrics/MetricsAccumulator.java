package org.promptdas.core.metrics;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A mergeable running mean of {@link SliceScores}, so that Spark (or any parallel loop) can reduce
 * per-slice scores: {@code add} one slice, {@code merge} two partial accumulators; the result does
 * not depend on the order. Undefined slices (no ground truth and no prediction) are counted and
 * left out of the means, as {@code numpy.nanmean} does in the reference. Not thread-safe: one per
 * task, then merge.
 */
public final class MetricsAccumulator implements Serializable {
  private static final long serialVersionUID = 1L;

  private final double[] sums = new double[SliceScores.NAMES.size()];
  private final long[] counts = new long[SliceScores.NAMES.size()];
  private long slices;
  private long undefinedSlices;

  public MetricsAccumulator add(SliceScores s) {
    slices++;
    if (!s.defined()) {
      undefinedSlices++;
    }
    for (int i = 0; i < sums.length; i++) {
      double v = s.get(SliceScores.NAMES.get(i));
      if (!Double.isNaN(v)) {
        sums[i] += v;
        counts[i]++;
      }
    }
    return this;
  }

  /** Adds {@code other} into this accumulator and returns this. */
  public MetricsAccumulator merge(MetricsAccumulator other) {
    for (int i = 0; i < sums.length; i++) {
      sums[i] += other.sums[i];
      counts[i] += other.counts[i];
    }
    slices += other.slices;
    undefinedSlices += other.undefinedSlices;
    return this;
  }

  public long slices() {
    return slices;
  }

  public long undefinedSlices() {
    return undefinedSlices;
  }

  /** Mean of score {@code name} over the slices where it is defined; NaN if there are none. */
  public double mean(String name) {
    int i = SliceScores.NAMES.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("no score called " + name + "; known: " + SliceScores.NAMES);
    }
    return counts[i] == 0 ? Double.NaN : sums[i] / counts[i];
  }

  /** All means, in {@link SliceScores#NAMES} order. */
  public Map<String, Double> means() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String n : SliceScores.NAMES) {
      m.put(n, mean(n));
    }
    return m;
  }
}

package org.promptdas.core.labels;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reproducible choice of a fraction of instances, as the paper's weak supervision needs (one point
 * on 15% of the target training instances). Every candidate gets a pseudo-random key from a hash of
 * (seed, volume, slice, point), and the {@code round(fraction * n)} candidates with the smallest
 * keys are chosen. The keys depend on nothing else, so the same instances are chosen however the
 * data is partitioned, and the choice can be made per slice or over a whole dataset (rank all keys).
 * Stateless and thread-safe.
 */
public final class PointSampler {
  private PointSampler() {}

  /** A uniform key in [0, 1) for one candidate point. */
  public static double key(long seed, String volume, int slice, Point p) {
    long h = mix(seed ^ 0x9E3779B97F4A7C15L);
    for (byte b : volume.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h ^ b);
    }
    h = mix(h ^ slice);
    h = mix(h ^ (((long) p.x() << 32) | (p.y() & 0xffffffffL)));
    return (h >>> 11) * 0x1.0p-53;
  }

  /** Number of candidates chosen out of {@code n} for {@code fraction} (rounded half up). */
  public static int count(int n, double fraction) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction must be in [0, 1], got " + fraction);
    }
    return (int) Math.floor(fraction * n + 0.5);
  }

  /** The chosen centre points of one slice, in the order of {@code centres}. */
  public static List<Point> choose(List<Point> centres, double fraction, long seed, String volume,
      int slice) {
    int k = count(centres.size(), fraction);
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < centres.size(); i++) {
      idx.add(i);
    }
    double[] keys = new double[centres.size()];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = key(seed, volume, slice, centres.get(i));
    }
    idx.sort(Comparator.comparingDouble(i -> keys[i]));
    List<Integer> chosen = new ArrayList<>(idx.subList(0, k));
    chosen.sort(null);
    List<Point> out = new ArrayList<>(k);
    for (int i : chosen) {
      out.add(centres.get(i));
    }
    return out;
  }

  /** SplitMix64's finaliser. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

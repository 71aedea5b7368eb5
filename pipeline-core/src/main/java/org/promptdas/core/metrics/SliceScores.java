package org.promptdas.core.metrics;

import java.io.Serializable;
import java.util.List;

/**
 * The scores of one slice. A value is {@code NaN} when it is undefined: with neither ground truth
 * nor prediction on the slice, every score is undefined (there is nothing to be right or wrong
 * about); such a slice is left out of the means and counted separately. When only one side is
 * empty the scores are defined and 0.
 */
public record SliceScores(double dice, double jaccard, double aji, double pq, double dq, double sq)
    implements Serializable {

  /** The score names in report order: the five the paper's protocol reports, then Jaccard. */
  public static final List<String> NAMES = List.of("dice", "aji", "pq", "dq", "sq", "jaccard");

  /** A slice with neither ground truth nor prediction. */
  public static final SliceScores UNDEFINED =
      new SliceScores(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

  /** False when the slice has neither ground truth nor prediction. */
  public boolean defined() {
    return !Double.isNaN(dice);
  }

  /** The score called {@code name} (one of {@link #NAMES}). */
  public double get(String name) {
    return switch (name) {
      case "dice" -> dice;
      case "jaccard" -> jaccard;
      case "aji" -> aji;
      case "pq" -> pq;
      case "dq" -> dq;
      case "sq" -> sq;
      default -> throw new IllegalArgumentException("no score called " + name + "; known: " + NAMES);
    };
  }
}

package org.promptdas.jobs.inputs;

import java.io.Serializable;

/**
 * An item of a volume with its slice index (the index a point table names): what a stage hands to
 * its one-slice-per-task jobs.
 *
 * @param <T> the slice's reference ({@link SliceRef}) or pair ({@link SliceSet.Pair})
 */
public record Indexed<T extends Serializable>(int index, T item) implements Serializable {

  /** Each item of {@code items} with its position. */
  public static <T extends Serializable> java.util.List<Indexed<T>> of(java.util.List<T> items) {
    java.util.List<Indexed<T>> out = new java.util.ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      out.add(new Indexed<>(i, items.get(i)));
    }
    return out;
  }
}

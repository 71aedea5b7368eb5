package org.promptdas.model.train;

import java.io.Serializable;

/**
 * How a {@link Trainer} runs its steps, which changes time and memory, not what is learnt.
 *
 * @param recomputeEncoder recompute the encoder's activations during the backward pass
 *     ({@link StudentGraph}): the same steps in less memory and about a third more encoder time
 * @param shards split each step's batch into this many equal shards that run side by side, one
 *     core each, with single-threaded ops ({@code Engine.concurrently}); their losses and gradients
 *     add up to the whole batch's, equal up to the order of float sums, so a run is reproducible
 *     for a given shard count. 1 runs the batch as one graph with ops spread over the cores.
 */
public record Execution(boolean recomputeEncoder, int shards) implements Serializable {
  /** One graph, nothing recomputed. */
  public static final Execution PLAIN = new Execution(false, 1);

  public Execution {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be at least 1, got " + shards);
    }
  }

  /**
   * The shard count for {@code threads} threads and {@code batch} crops: the largest count of at
   * most {@code threads} that divides the batch.
   */
  public static int shardsFor(int threads, int batch) {
    int s = Math.max(1, Math.min(threads, batch));
    while (batch % s != 0) {
      s--;
    }
    return s;
  }
}

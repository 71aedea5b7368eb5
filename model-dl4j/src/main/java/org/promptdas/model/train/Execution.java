package org.promptdas.model.train;

import java.io.Serializable;
import java.util.function.IntSupplier;
import org.promptdas.model.network.NetworkConfig;

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
   * The threads a thread setting ({@code train.step-threads}, {@code infer.threads}, the benchmarks'
   * options) means for network {@code c}: the setting when positive; for auto (0) the
   * {@code cores} at hand where sharding pays, encoders below
   * {@link StudentGraph#RECOMPUTE_MIN_TOKENS} tokens, whose ops are too small to gain from being
   * split over cores; else 1 (the paper network's large products already use the cores).
   */
  public static int threads(int setting, NetworkConfig c, IntSupplier cores) {
    if (setting > 0) {
      return setting;
    }
    return c.grid() * c.grid() < StudentGraph.RECOMPUTE_MIN_TOKENS ? cores.getAsInt() : 1;
  }
}

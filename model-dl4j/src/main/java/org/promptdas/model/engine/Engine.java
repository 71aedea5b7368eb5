package org.promptdas.model.engine;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The one way into the engine: how this project runs SameDiff graphs on ND4J 1.0.0-M2.1, whose
 * gaps and slow kernels the package's classes work around (each says which and why). Everything
 * else in the package is private to it, so a later ND4J that fixes a bug removes one class here
 * and nothing outside.
 *
 * <ul>
 *   <li><b>Build</b>: layers take their ops from {@link #trainingOps} (differentiated graphs) or
 *       {@link #forwardOps} (forward passes), and a finished graph gets the native-kernel policy
 *       ({@link #withHelperPolicy}).</li>
 *   <li><b>Differentiate</b>: {@link #prepareGradients} builds the backward graph once and rewrites
 *       its slow or unsupported gradient ops.</li>
 *   <li><b>Run</b>: an {@code Engine} instance runs graphs ({@link #output},
 *       {@link #gradientsAndOutputs}) in fresh sessions over one array cache of its own, which keeps
 *       memory flat whatever the number of graphs and runs.</li>
 *   <li><b>Shard</b>: {@link #concurrently} runs the shards of a batch side by side, one core
 *       each, with single-threaded ops (faster than splitting each small op over the cores).</li>
 *   <li><b>Release</b>: {@link #release} frees arrays a loop is done with, without a GC.</li>
 *   <li><b>Configure</b>: {@link #configure} checks the JVM switches ({@code -Dpromptdas.helpers},
 *       {@code -Dpromptdas.session-cache}) before work starts; {@link #describe} says what is in
 *       force.</li>
 * </ul>
 *
 * <p>An instance is not thread-safe: the graphs it runs must run one at a time (callers
 * synchronise). The static methods are thread-safe.
 *
 * <pre>{@code
 * SameDiff sd = ...;                        // built with Engine.trainingOps(sd), loss set
 * Engine.prepareGradients(sd, Engine.Backward.VIEWS);
 * Engine engine = new Engine();
 * OutAndGrad og = engine.gradientsAndOutputs(sd, placeholders, List.of("loss"), weightNames);
 * }</pre>
 */
public final class Engine {
  /** Which rewrites a backward graph gets. */
  public enum Backward {
    /** Only those without which it cannot run (a baseline for benchmarks and tests). */
    REQUIRED,
    /** Every faster op, copies only: the graph also runs in SameDiff's own session. */
    COPIES,
    /** Every faster op and views instead of copies: run the graph in an {@code Engine}. */
    VIEWS
  }

  private final SessionArrays arrays = new SessionArrays();

  /** The outputs of {@code sd} for {@code inputs}, in a fresh session over this engine's cache. */
  public Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> inputs, String... outputs) {
    return arrays.output(sd, inputs, outputs);
  }

  /**
   * The {@code outputs} of {@code sd} and the loss's gradients for {@code variables}, by running
   * its backward graph ({@link #prepareGradients} first) over this engine's cache, each array
   * returned to the cache once its last consumer has run.
   */
  public OutAndGrad gradientsAndOutputs(SameDiff sd, Map<String, INDArray> inputs, Collection<String> outputs,
      Collection<String> variables) {
    return arrays.gradientsAndOutputs(sd, inputs, outputs, variables);
  }

  /**
   * The results of {@code tasks} (each running graphs of its own, in an {@code Engine} of its own),
   * run concurrently on a shared daemon pool, in order; every ND4J op in the JVM runs on one thread
   * while they do. One task runs on the calling thread with the thread settings untouched. A failed
   * task's exception (or error) is rethrown once all have ended.
   */
  public static <T> List<T> concurrently(List<Callable<T>> tasks) {
    return Shards.run(tasks);
  }

  /** One shard's work: {@code part} is {@code items[from, from + part.size())} of the whole list. */
  @FunctionalInterface
  public interface ShardTask<E, T> {
    T run(int shard, int from, List<E> part) throws Exception;
  }

  /**
   * {@code items} split into {@code shards} contiguous equal parts, {@code task} run on each part
   * {@linkplain #concurrently concurrently}; the results in shard order.
   *
   * @throws IllegalArgumentException if the shards do not divide the items
   */
  public static <E, T> List<T> inShards(List<E> items, int shards, ShardTask<E, T> task) {
    if (shards < 1 || items.size() % shards != 0) {
      throw new IllegalArgumentException(shards + " shards do not divide " + items.size() + " items");
    }
    int per = items.size() / shards;
    List<Callable<T>> tasks = new ArrayList<>();
    for (int i = 0; i < shards; i++) {
      int shard = i;
      List<E> part = items.subList(i * per, (i + 1) * per);
      tasks.add(() -> task.run(shard, shard * per, part));
    }
    return concurrently(tasks);
  }

  /**
   * The shard count for {@code threads} threads and a batch of {@code batch}: the largest count of
   * at most {@code threads} that divides the batch (shards are equal).
   */
  public static int shardsFor(int threads, int batch) {
    int s = Math.max(1, Math.min(threads, batch));
    while (batch % s != 0) {
      s--;
    }
    return s;
  }

  /**
   * Frees the off-heap memory of {@code arrays} now (each closeable one once; views and arrays
   * already freed are skipped) instead of when the GC collects them: ND4J's buffers live until
   * their Java objects are collected, which a small heap rarely triggers, so a loop that drops
   * arrays would otherwise grow its memory or need a {@code System.gc()} per iteration. The
   * arrays must not be used afterwards.
   */
  public static void release(Collection<INDArray> arrays) {
    Set<INDArray> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (INDArray a : arrays) {
      if (a != null && seen.add(a) && a.closeable()) {
        a.close();
      }
    }
  }

  /** Ops for a graph that will be differentiated. */
  public static GraphOps trainingOps(SameDiff sd) {
    return new TrainingOps(sd);
  }

  /** Ops for a graph that only runs forward, in an {@code Engine}. */
  public static GraphOps forwardOps(SameDiff sd) {
    return new ForwardOps(sd);
  }

  /** Puts the native-kernel policy in force ({@code -Dpromptdas.helpers}) on a finished graph; returns it. */
  public static SameDiff withHelperPolicy(SameDiff sd) {
    return NativeHelpers.apply(sd);
  }

  /**
   * Builds {@code sd}'s backward graph once (without SameDiff M2.1's line per differentiated op on
   * standard output) and applies the rewrites of {@code mode}; returns how many ops each rewrite
   * replaced, by name, in the order they ran.
   */
  public static synchronized Map<String, Integer> prepareGradients(SameDiff sd, Backward mode) {
    PrintStream out = System.out;
    QuietOutput filter = new QuietOutput(out);
    System.setOut(new PrintStream(filter, true));
    try {
      sd.createGradFunction();
    } finally {
      System.setOut(out);
      filter.flushPartialLine();
    }
    return BackwardRewrites.apply(sd.getFunction(SessionArrays.GRAD_FUNCTION), mode);
  }

  /** The backward graph {@link #prepareGradients} built for {@code sd}, for inspection; null before. */
  public static SameDiff backwardGraph(SameDiff sd) {
    return sd.getFunction(SessionArrays.GRAD_FUNCTION);
  }

  /**
   * Checks the engine's JVM switches ({@code -Dpromptdas.helpers}, {@code -Dpromptdas.session-cache}):
   * a bad value fails here, naming it, instead of in the first graph.
   */
  public static void configure() {
    NativeHelpers.policy();
    SessionArrays.cacheFraction();
  }

  /** One line for logs and benchmarks, e.g. "oneDNN build, helpers: matrix-matmul". */
  public static String describe() {
    return NativeHelpers.describe();
  }
}

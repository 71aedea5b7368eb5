package org.promptdas.jobs.training;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.promptdas.model.train.Averaging;
import org.promptdas.model.train.Checkpoint;
import org.promptdas.model.train.Execution;
import org.promptdas.model.train.TrainingState;

/**
 * One synchronous round on Spark: the driver broadcasts the state as checkpoint bytes, every
 * partition of the dealt crops is a worker that runs {@link LocalRound} from it, the driver
 * collects the workers' results and sums them in partition order (float sums depend on their
 * order, so a fixed order makes a run with any number of workers bit-reproducible, whatever order
 * the tasks finish in), averages them and moves the teacher ({@link Averaging#average}). The
 * driver holds every worker's flat state at once: P x 3 x the parameter count floats. Used by the
 * train stage and by bench-train.
 */
public final class Round {
  private Round() {}

  /**
   * What a round did: the next state, the workers' summed result, the size of the broadcast state
   * and the driver's seconds in serialising it, in Spark (broadcast, workers, aggregation) and in
   * averaging.
   */
  public record Outcome(TrainingState next, WorkerResult workers, long stateBytes,
      double serialiseSeconds, double sparkSeconds, double averageSeconds) {}

  /**
   * Runs a round from {@code state}.
   *
   * @param source the dealt source crops, one partition per worker
   * @param target the dealt target crops with as many partitions, or null (source-only)
   * @param execution how the workers' trainers run their steps ({@link LocalRound#run})
   */
  public static Outcome advance(JavaSparkContext jsc, JavaRDD<CropRecord> source,
      JavaRDD<CropRecord> target, TrainingState state, int localSteps, Execution execution) {
    long t0 = System.nanoTime();
    byte[] bytes = Checkpoint.toBytes(state);
    long t1 = System.nanoTime();
    Broadcast<byte[]> broadcast = jsc.broadcast(bytes);
    WorkerResult sum = run(source, target, broadcast, localSteps, execution);
    broadcast.destroy();
    long t2 = System.nanoTime();
    TrainingState next = Averaging.average(state, sum.state(), sum.workers(), localSteps);
    System.gc(); // the previous state's off-heap arrays
    long t3 = System.nanoTime();
    return new Outcome(next, sum, bytes.length, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
  }

  private static WorkerResult run(JavaRDD<CropRecord> source, JavaRDD<CropRecord> target,
      Broadcast<byte[]> state, int localSteps, Execution execution) {
    JavaRDD<WorkerResult> results = target == null
        ? source.mapPartitions(s -> one(LocalRound.run(state.value(), TaskContext.getPartitionId(),
            list(s), List.of(), localSteps, execution)))
        : source.zipPartitions(target, (s, t) -> one(LocalRound.run(state.value(),
            TaskContext.getPartitionId(), list(s), list(t), localSteps, execution)));
    WorkerResult sum = WorkerResult.empty();
    for (WorkerResult r : results.collect()) { // collect keeps the partitions' order
      sum.plus(r);
    }
    return sum;
  }

  private static <T> List<T> list(Iterator<T> it) {
    List<T> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  private static Iterator<WorkerResult> one(WorkerResult r) {
    return List.of(r).iterator();
  }
}

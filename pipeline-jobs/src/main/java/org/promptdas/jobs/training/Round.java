package org.promptdas.jobs.training;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;

/**
 * One synchronous round on Spark: every partition of the dealt crops is a worker that runs
 * {@link LocalRound} from the broadcast state; {@code treeAggregate} sums the workers' results
 * (the driver then divides: {@link org.promptdas.model.train.Averaging#average}).
 */
public final class Round {
  private Round() {}

  /**
   * Runs a round.
   *
   * @param source the dealt source crops, one partition per worker
   * @param target the dealt target crops with as many partitions, or null (source-only)
   * @param state the round's start state as checkpoint bytes
   */
  public static WorkerResult run(JavaRDD<CropRecord> source, JavaRDD<CropRecord> target,
      Broadcast<byte[]> state, int localSteps) {
    JavaRDD<WorkerResult> results = target == null
        ? source.mapPartitions(s -> one(LocalRound.run(state.value(), TaskContext.getPartitionId(),
            list(s), List.of(), localSteps)))
        : source.zipPartitions(target, (s, t) -> one(LocalRound.run(state.value(),
            TaskContext.getPartitionId(), list(s), list(t), localSteps)));
    return results.treeAggregate(WorkerResult.empty(), WorkerResult::plus, WorkerResult::plus);
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

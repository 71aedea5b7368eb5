package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** {@link Engine#concurrently}: results in order, single-threaded ops meanwhile, failures rethrown. */
class ShardsTest {
  @Test
  void runsTasksSideBySideWithSingleThreadedOpsAndRestoresTheSettings() {
    int before = Nd4j.getEnvironment().maxMasterThreads();
    int blas = Nd4j.factory().blas().getMaxThreads();
    Callable<Double> task = () -> {
      assertEquals(1, Nd4j.getEnvironment().maxMasterThreads(), "ops run on one thread while shards run");
      assertEquals(1, Nd4j.factory().blas().getMaxThreads(), "and so does BLAS");
      return Nd4j.ones(DataType.FLOAT, 64, 64).mmul(Nd4j.ones(DataType.FLOAT, 64, 1)).sumNumber().doubleValue();
    };
    List<Callable<Double>> tasks = List.of(task, () -> 2.0, task);
    assertEquals(List.of(64.0 * 64, 2.0, 64.0 * 64), Engine.concurrently(tasks));
    assertEquals(before, Nd4j.getEnvironment().maxMasterThreads(), "the thread settings are restored");
    assertEquals(blas, Nd4j.factory().blas().getMaxThreads(), "the thread settings are restored");
  }

  @Test
  void inShardsHandsEachTaskItsContiguousPartAndWhereItStarts() {
    List<String> r = Engine.inShards(List.of(10, 11, 12, 13, 14, 15), 3,
        (shard, from, part) -> shard + "@" + from + part);
    assertEquals(List.of("0@0[10, 11]", "1@2[12, 13]", "2@4[14, 15]"), r);
    assertThrows(IllegalArgumentException.class, () -> Engine.inShards(List.of(1, 2, 3), 2, (s, f, p) -> p));
  }

  @Test
  void aFailedShardFailsTheRunOnceAllHaveEnded() {
    IllegalStateException boom = new IllegalStateException("boom");
    List<Callable<Integer>> tasks = List.of(() -> 1, () -> {
      throw boom;
    });
    assertSame(boom, assertThrows(IllegalStateException.class, () -> Engine.concurrently(tasks)));
    assertEquals(List.of(7), Engine.concurrently(List.of(() -> 7)), "one task runs on the calling thread");
  }
}

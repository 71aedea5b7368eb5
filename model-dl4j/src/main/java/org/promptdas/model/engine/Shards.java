package org.promptdas.model.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Runs the shards of a batch side by side, one Java thread each, with every ND4J op
 * single-threaded while they run. libnd4j splits each op over the machine's cores, which pays for
 * the paper network's large products but not for a small network's thousands of small ops: on 2
 * cores a {@code small} training step at batch 8 takes as long with one thread per op as with two.
 * Two half-batches on one core each use both cores for the whole step.
 *
 * <p>The thread settings are process-wide (libnd4j's {@code maxMasterThreads}, which its ops split
 * their loops over, and OpenBLAS's thread count) or per pool thread (OpenMP's, which oneDNN uses):
 * they are set to 1 while any {@link #run} is in progress and restored when the last one ends, so
 * ops elsewhere in the JVM run single-threaded meanwhile. (libnd4j's {@code maxThreads} cannot be
 * lowered at run time and is left alone.)
 * Thread-safe: concurrent callers share one pool of daemon threads, made as needed and ended
 * after a minute idle.
 */
final class Shards {
  private static final Object LOCK = new Object();
  private static final AtomicInteger NAMES = new AtomicInteger();
  private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(() -> {
      // OpenMP's thread count is per thread: this pool thread's ops (oneDNN's) use one
      NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(1);
      r.run();
    }, "prompt-das-shard-" + NAMES.incrementAndGet());
    t.setDaemon(true);
    return t;
  });
  private static int running;
  private static int savedMaster;
  private static int savedBlas;

  private Shards() {}

  /** The results of {@code tasks}, run concurrently, in order; the first failure is rethrown. */
  static <T> List<T> run(List<Callable<T>> tasks) {
    if (tasks.size() == 1) {
      return List.of(call(tasks.get(0)));
    }
    enter();
    try {
      List<Future<T>> futures = new ArrayList<>();
      tasks.forEach(t -> futures.add(POOL.submit(t)));
      List<T> out = new ArrayList<>();
      Throwable failure = null;
      for (Future<T> f : futures) {
        try {
          out.add(f.get());
        } catch (ExecutionException e) {
          failure = failure == null ? e.getCause() : failure;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          failure = failure == null ? e : failure;
        }
      }
      if (failure != null) {
        throw rethrow(failure);
      }
      return out;
    } finally {
      leave();
    }
  }

  private static <T> T call(Callable<T> task) {
    try {
      return task.call();
    } catch (Exception e) {
      throw rethrow(e);
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("a shard failed", t);
  }

  private static void enter() {
    synchronized (LOCK) {
      if (running++ == 0) {
        savedMaster = Nd4j.getEnvironment().maxMasterThreads();
        savedBlas = Nd4j.factory().blas().getMaxThreads();
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
      }
    }
  }

  private static void leave() {
    synchronized (LOCK) {
      if (--running == 0) {
        Nd4j.getEnvironment().setMaxMasterThreads(savedMaster);
        Nd4j.factory().blas().setMaxThreads(savedBlas);
      }
    }
  }
}

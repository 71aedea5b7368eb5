package org.promptdas.jobs.training;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.promptdas.model.train.Checkpoint;
import org.promptdas.model.train.Execution;
import org.promptdas.model.train.Sample;
import org.promptdas.model.train.StepResult;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.Trainer;
import org.promptdas.model.train.TrainingState;

/**
 * One worker's share of a distributed round: continue from the broadcast state for K local steps on
 * the worker's own crops, with the teacher held (it moves on the driver), and return the state as
 * a flat vector. Worker w draws its crops and its augmentations from random stream w, a function of
 * (seed, w, step) only, so a retried task repeats exactly what the failed one did.
 *
 * <p>Trainers (their graphs and sessions) are kept per JVM and configuration and reused from
 * round to round: building the graph costs more than a step of the tiny network. The pool is
 * thread-safe; each trainer serves one task at a time.
 */
public final class LocalRound {
  private static final Map<String, Queue<Trainer>> POOL = new ConcurrentHashMap<>();

  private LocalRound() {}

  /**
   * Runs worker {@code worker}'s local steps.
   *
   * @param stateBytes the round's start state as checkpoint bytes
   * @param source the worker's labelled source crops (any order: they are sorted by key)
   * @param target the worker's target crops (ignored in source-only mode)
   * @param execution how the worker's trainer runs its steps ({@link Execution})
   */
  public static WorkerResult run(byte[] stateBytes, int worker, List<CropRecord> source,
      List<CropRecord> target, int localSteps, Execution execution) {
    long t0 = System.nanoTime();
    TrainingState start = Checkpoint.read("the round's state", stateBytes, null);
    TrainConfig cfg = start.training();
    List<CropRecord> src = sorted(source);
    List<CropRecord> tgt = cfg.usesTarget() ? sorted(target) : List.of();
    if (src.isEmpty() || (cfg.usesTarget() && tgt.isEmpty())) {
      throw new IllegalStateException("worker " + worker + " has " + src.size() + " source and "
          + tgt.size() + " target crops; every worker needs some (use fewer partitions)");
    }
    String key = start.network().toJson() + cfg.toJson() + execution;
    Queue<Trainer> idle = POOL.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>());
    Trainer trainer = idle.poll();
    if (trainer == null) {
      trainer = Trainer.from(start, execution);
    } else {
      trainer.load(start);
    }
    trainer.holdTeacher().useRandomStream(worker);
    int size = start.network().imageSize();
    WorkerResult out = WorkerResult.empty();
    long t1 = System.nanoTime();
    for (int k = 0; k < localSteps; k++) {
      SplittableRandom rnd = cropRandom(cfg.seed(), worker, trainer.step());
      List<Sample> s = draw(src, cfg.batch(), size, rnd);
      List<Sample> t = cfg.usesTarget() ? draw(tgt, cfg.batch(), size, rnd) : List.of();
      StepResult r = trainer.step(s, t);
      out.steps++;
      out.crops += s.size() + t.size();
      out.loss += r.loss();
      out.segmentation += r.segmentation();
      out.detection += r.detection();
      out.contrastive += r.contrastive();
    }
    long t2 = System.nanoTime();
    out.state = trainer.flatState();
    out.workers = 1;
    out.seconds = (t2 - t1) / 1e9;
    out.setupSeconds = (t1 - t0 + System.nanoTime() - t2) / 1e9;
    idle.add(trainer); // only a trainer that finished its steps is reused
    System.gc(); // ND4J frees the flattened state's off-heap arrays only once they are collected
    return out;
  }

  private static List<CropRecord> sorted(List<CropRecord> crops) {
    List<CropRecord> out = new ArrayList<>(crops);
    out.sort(Comparator.comparing(CropRecord::key));
    return out;
  }

  private static List<Sample> draw(List<CropRecord> crops, int n, int size, SplittableRandom rnd) {
    List<Sample> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(crops.get(rnd.nextInt(crops.size())).sample(size, rnd));
    }
    return out;
  }

  private static SplittableRandom cropRandom(long seed, int worker, long step) {
    return new SplittableRandom(seed * 0xD6E8FEB86659FD93L + worker * 0xA0761D6478BD642FL
        + step * 0xE7037ED1A0B428DBL + 7);
  }
}

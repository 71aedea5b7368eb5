package org.promptdas.jobs.spark;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs progress a person can follow: per Spark stage, tasks done out of total, elapsed time and an
 * ETA, at most every 5 seconds, plus a line when a stage ends.
 */
final class ProgressListener extends SparkListener {
  private static final Logger LOG = LoggerFactory.getLogger("prompt-das.progress");
  private static final long INTERVAL_MS = 5_000;
  private final String job;
  private final ConcurrentHashMap<Integer, Progress> stages = new ConcurrentHashMap<>();

  ProgressListener(String job) {
    this.job = job;
  }

  private static final class Progress {
    final String name;
    final int total;
    final long start = System.currentTimeMillis();
    final AtomicInteger done = new AtomicInteger();
    volatile long lastLog = start;

    Progress(String name, int total) {
      this.name = name;
      this.total = total;
    }
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted e) {
    stages.put(e.stageInfo().stageId(),
        new Progress(e.stageInfo().name().replaceAll(" at .*", ""), e.stageInfo().numTasks()));
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd e) {
    Progress p = stages.get(e.stageId());
    if (p == null) {
      return;
    }
    int d = p.done.incrementAndGet();
    long now = System.currentTimeMillis();
    if (now - p.lastLog >= INTERVAL_MS && d < p.total) {
      p.lastLog = now;
      double elapsed = (now - p.start) / 1000.0;
      double eta = elapsed / d * (p.total - d);
      LOG.info(String.format(Locale.ROOT, "[%s] %s: %d/%d tasks (%.0f%%), %.0fs elapsed, ETA %.0fs",
          job, p.name, d, p.total, 100.0 * d / p.total, elapsed, eta));
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted e) {
    Progress p = stages.remove(e.stageInfo().stageId());
    if (p != null && p.total > 1) {
      LOG.info(String.format(Locale.ROOT, "[%s] %s: %d tasks done in %.1fs", job, p.name, p.total,
          (System.currentTimeMillis() - p.start) / 1000.0));
    }
  }
}

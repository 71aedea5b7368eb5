package org.promptdas.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.jobs.training.CropRecord;
import org.promptdas.jobs.training.Round;
import org.promptdas.jobs.training.WorkerResult;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Averaging;
import org.promptdas.model.train.Execution;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.StudentGraph;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.TrainingState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-train}: what a distributed round costs around the local steps it wraps. Runs
 * source-only rounds of the {@code train} stage's machinery ({@link Round}, {@link Averaging}) on
 * generated crops and prints, per round, the wall time, the workers' time in local steps, and the
 * rest (serialising the state, broadcast, loading it into the workers' trainers, flattening,
 * the tree aggregation, averaging): the overhead and its fraction of the round. The first round
 * also builds the workers' graphs and is reported as a warm-up. A benchmark: numbers, no asserts.
 */
@Command(name = "bench-train", mixinStandardHelpOptions = true,
    description = "Benchmark the overhead of a parameter-averaging round against its local steps.")
public final class BenchTrain implements Callable<Integer> {
  @Option(names = "--network", description = "tiny, small or paper (default paper).")
  String network = "paper";

  @Option(names = "--image-size", description = "Crop size in px (default 128: the paper network's 384 px "
      + "training step peaks at 7.6 GB per worker, two of them near this machine's 16 GB limit, and takes 9-11 s on "
      + "2 cores; the parameter count, which decides the averaging cost, does not depend on it).")
  int imageSize = 128;

  @Option(names = "--workers", description = "Workers = partitions (default 2).")
  int workers = 2;

  @Option(names = "--local-steps", description = "Local steps per round (default 2).")
  int localSteps = 2;

  @Option(names = "--rounds", description = "Rounds, the first a warm-up (default 3).")
  int rounds = 3;

  @Option(names = "--batch", description = "Crops per worker step (default 1).")
  int batch = 1;

  @Option(names = "--recompute-encoder", description = "auto, true or false: whether workers "
      + "recompute the encoder's activations in the backward pass (less memory). Default auto, as "
      + "train: for encoders of " + StudentGraph.RECOMPUTE_MIN_TOKENS + " tokens or more.")
  String recompute = "auto";

  @Option(names = "--master", description = "Spark master (default local[2]).")
  String master = "local[2]";

  @Override
  public Integer call() {
    NetworkConfig base = NetworkConfig.named(network);
    NetworkConfig net = base.withImageSize(imageSize);
    boolean parts = StudentGraph.recompute(recompute, net);
    TrainConfig cfg = TrainConfig.forNetwork(network, Mode.SOURCE_ONLY, rounds * localSteps, 1)
        .with(true, true, true, true, batch, 1e-4);
    SparkSession spark = SparkSession.builder().master(master).appName("prompt-das bench-train")
        .config("spark.ui.showConsoleProgress", "false").getOrCreate();
    JavaSparkContext jsc = new JavaSparkContext(spark.sparkContext());
    List<CropRecord> crops = new ArrayList<>();
    for (int i = 0; i < 4 * workers; i++) {
      SynthEm.Sample s = SynthEm.generate(Domain.SOURCE, imageSize, imageSize, 500 + i);
      crops.add(new CropRecord("bench/" + i, PngWriter.grey8(s.image()), PngWriter.grey16(s.labels()), new int[0]));
    }
    JavaRDD<CropRecord> dealt = jsc.parallelize(crops, workers).cache();
    TrainingState state = TrainingState.initial(Weights.initialise(net, 1), cfg);
    long params = Averaging.length(state) / 3;
    System.out.printf(Locale.ROOT, "network %s at %d px: %.1fM parameters; %d workers (%s), %d local steps "
        + "per round, batch %d, encoder recomputed: %b%n", network, imageSize, params / 1e6, workers,
        master, localSteps, batch, parts);
    double fraction = Double.NaN;
    for (int r = 1; r <= rounds; r++) {
      Round.Outcome o = Round.advance(jsc, dealt, null, state, localSteps, new Execution(parts, 1));
      state = o.next();
      WorkerResult sum = o.workers();
      double wall = o.serialiseSeconds() + o.sparkSeconds() + o.averageSeconds();
      double steps = sum.seconds() / sum.workers();
      double overhead = wall - steps;
      fraction = overhead / wall;
      System.out.printf(Locale.ROOT, "round %d%s: wall %.2f s = local steps %.2f s (%.2f s/step) + overhead "
          + "%.2f s (%.1f%%): state %.0f MB serialised in %.2f s, worker load+flatten %.2f s, averaging "
          + "%.2f s, Spark (broadcast, scheduling, aggregation) %.2f s; loss %.4f%n", r,
          r == 1 ? " (warm-up, builds the graphs)" : "", wall, steps, steps / localSteps, overhead,
          100 * fraction, o.stateBytes() / 1e6, o.serialiseSeconds(), sum.setupSeconds() / sum.workers(),
          o.averageSeconds(), o.sparkSeconds() - steps - sum.setupSeconds() / sum.workers(), sum.meanLosses()[0]);
    }
    System.out.printf(Locale.ROOT, "overhead_fraction=%.3f%n", fraction);
    return 0;
  }
}

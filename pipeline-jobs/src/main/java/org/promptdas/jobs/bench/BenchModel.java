package org.promptdas.jobs.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException;
import org.promptdas.core.geometry.Crops;
import org.promptdas.core.geometry.Window;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.CentrePoints;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Point;
import org.promptdas.core.labels.PointSampler;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.network.Flops;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.TokenMasks;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.AdamW;
import org.promptdas.model.train.Execution;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.Sample;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.Trainer;
import org.promptdas.model.train.StudentGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-model}: seconds per forward pass and per training step (forward, backward, an AdamW
 * update of every weight, on a mean-squared loss of all three heads) of the tiny and the paper's
 * network at batch 1 and 2, peak resident memory, and the ratio of each time to the time the
 * model's analytically counted FLOPs take at the best GFLOP/s of a large ND4J sgemm measured in the
 * same run ({@link SgemmRate}, sampled before every timed run), with a paired ratio beside it (each
 * timed run against the sgemm sample just before it, the median of those: steadier on a VM whose
 * speed drifts), and the inference throughput in windows per second (batch / forward time; compare
 * {@code --batches 1,8,32 --forward-only}). Batches run in shards side by side as training and
 * inference run them ({@code --shards}). The last line reads {@code forward_ratio=<x> train_ratio=<y>}
 * for the last network and batch ({@code train_ratio=NaN} when the step ran out of memory, which
 * the paper's network does at batch 2 on a 24 GB machine with SameDiff M2.1's session memory
 * manager). {@code --torch} times the same networks in PyTorch in the same run and
 * {@code --trainer-steps} the real trainer's whole step and memory. A benchmark: it prints numbers
 * and asserts nothing.
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true,
    description = "Benchmark forward and training-step time of the network against sgemm speed.")
public final class BenchModel implements Callable<Integer> {
  @Option(names = "--configs", split = ",", description = "Networks to time: tiny, small, paper (default tiny,paper).")
  List<String> configs = List.of("tiny", "paper");

  @Option(names = "--batches", split = ",", description = "Batch sizes (default 1,2).")
  List<Integer> batches = List.of(1, 2);

  @Option(names = "--reps", description = "Timed repetitions after the warm-up runs (default 3).")
  int reps = 3;

  @Option(names = "--warmup", description = "Untimed runs first (default 2: the paper network's "
      + "first two forward passes take about twice as long as the later ones).")
  int warmup = 2;

  @Option(names = "--prompts", description = "Prompt points per crop (default 5).")
  int prompts = 5;

  @Option(names = "--session-per-graph", description = "Keep SameDiff's own session per graph "
      + "instead of a fresh session per run over a shared array cache (for comparison; copies then "
      + "replace the attention's views, which only the shared cache can run).")
  boolean sessionPerGraph;

  @Option(names = "--forward-only", description = "Skip the training steps.")
  boolean forwardOnly;

  @Option(names = "--recompute-encoder", description = "auto, true or false: whether training steps "
      + "recompute the encoder's activations during the backward pass (less memory, one more "
      + "encoder forward). Default auto, as train: for encoders of "
      + StudentGraph.RECOMPUTE_MIN_TOKENS + " tokens or more (the paper network).")
  String recompute = "auto";

  @Option(names = "--torch", paramLabel = "SCRIPT", description = "Also time the same networks in "
      + "PyTorch with this script (scripts/bench-torch.py; needs python3 with torch) in the same run, "
      + "on as many threads as ND4J uses, and print Java's time over PyTorch's (small and cpu only).")
  String torch;

  @Option(names = "--op-times", description = "Also print the N op types that take the most time "
      + "per timed run (forward and backward ops, from a SameDiff listener) and the AdamW update's "
      + "time (default 0: off).")
  int opTimes;

  @Option(names = "--slowest-ops", description = "With --op-times, also print the N single ops "
      + "(by graph name, with output shape) that take the most time per timed run (default 0).")
  int slowestOps;

  @Option(names = "--shards", description = "Run each batch as this many shards side by side, one "
      + "core each, with single-threaded ops, as training does (train.step-threads); a divisor of "
      + "every batch. Default 0: auto, the cores for networks under "
      + StudentGraph.RECOMPUTE_MIN_TOKENS + " encoder tokens, else 1.")
  int shards;

  @Option(names = "--trainer-steps", description = "Also run this many steps of the real trainer "
      + "(UDA, the network's training preset at each batch, generated 512 px slices' crops, the "
      + "shards above) and print the median step time and the resident memory every 10 steps "
      + "(default 0: off).")
  int trainerSteps;

  @Override
  public Integer call() throws IOException {
    // every network and setting read first, so a bad one fails before any timing
    if (reps < 1 || warmup < 0 || opTimes < 0 || slowestOps < 0 || trainerSteps < 0) {
      throw new PromptDasException.BadInput("--reps must be at least 1, --warmup, --op-times, "
          + "--slowest-ops and --trainer-steps at least 0, got " + reps + ", " + warmup + ", " + opTimes + ", "
          + slowestOps + " and " + trainerSteps);
    }
    List<Network> networks = new ArrayList<>();
    for (String name : configs) {
      NetworkConfig cfg = NetworkConfig.named(name);
      int s = Execution.threads(shards, cfg, Runtime.getRuntime()::availableProcessors);
      if (shards < 0 || (shards > 0 && batches.stream().anyMatch(b -> b % shards != 0))) {
        throw new PromptDasException.BadInput("--shards must be 0 (auto) or divide every batch, got "
            + shards + " and batches " + batches);
      }
      if (s > 1 && (opTimes > 0 || sessionPerGraph)) {
        throw new PromptDasException.BadInput("--op-times and --session-per-graph time one graph: add --shards 1");
      }
      networks.add(new Network(name, cfg, StudentGraph.recompute(recompute, cfg), s));
    }
    sgemm = new SgemmRate();
    System.out.printf(Locale.ROOT, "backend %s (%s), sgemm 2048^3: %.1f GFLOP/s (best of 5, BLAS and "
        + "matmul op; sampled again before every timed run)%n",
        Nd4j.getExecutioner().getClass().getSimpleName(), Engine.describe(), sgemm.sample(5));
    double[] last = null;
    for (Network net : networks) {
      String name = net.name();
      NetworkConfig cfg = net.config();
      Weights w = Weights.initialise(cfg, 1);
      for (int b : batches) {
        double fwdFlops = Flops.forward(cfg, b, 1 + 8);
        // each stage its own array cache, as a model and a trainer have: the forward pass's cached
        // arrays are garbage (and freed) before the training steps are timed
        int parts = Engine.shardsFor(net.shards(), b);
        List<Engine> engines = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
          engines.add(new Engine());
        }
        OpTimes fwdTimes = new OpTimes();
        Timing fwd = time(() -> forwardOnce(engines, w, b, fwdTimes), fwdTimes, fwdFlops);
        forwardGraphs.clear();
        double fwdRatio = fwd.ratio(fwdFlops, sgemm.best());
        javaTimes.put(name + " " + b, new double[] {fwd.median(), Double.NaN});
        System.out.printf(Locale.ROOT, "%-5s batch %d: forward %.3f s (%.1f GFLOP, ratio %.2f, paired %.2f), "
            + "%.2f windows/s, shards %d, peak RSS %.2f GB%n", name, b, fwd.median(), fwdFlops / 1e9, fwdRatio,
            fwd.pairedRatio(), b / fwd.median(), parts, ProcessMemory.peakGb());
        double trainRatio = Double.NaN;
        if (forwardOnly) {
          last = new double[] {fwdRatio, trainRatio};
          continue;
        }
        try {
          Timing train = timeTraining(w, b, net.recompute(), parts, 3 * fwdFlops);
          trainRatio = train.ratio(3 * fwdFlops, sgemm.best());
          javaTimes.get(name + " " + b)[1] = train.median();
          System.out.printf(Locale.ROOT, "%-5s batch %d: train step %.3f s (%.1f GFLOP, ratio %.2f, paired %.2f), "
              + "encoder recomputed: %b, shards %d, peak RSS %.2f GB%n", name, b, train.median(), 3 * fwdFlops / 1e9,
              trainRatio, train.pairedRatio(), net.recompute(), parts, ProcessMemory.peakGb());
        } catch (OutOfMemoryError e) {
          System.gc();
          System.out.printf(Locale.ROOT, "%-5s batch %d: train step out of memory (%s), peak RSS %.2f GB%n",
              name, b, e.getCause() != null ? e.getCause().getMessage() : e.getMessage(), ProcessMemory.peakGb());
        }
        last = new double[] {fwdRatio, trainRatio};
        if (trainerSteps > 0) {
          runTrainer(name, w, b, parts);
        }
      }
    }
    if (torch != null) {
      compareWithTorch();
    }
    if (last != null) {
      System.out.printf(Locale.ROOT, "forward_ratio=%.2f train_ratio=%.2f%n", last[0], last[1]);
    }
    return 0;
  }

  /** Java's medians by "network batch": forward and training-step seconds. */
  private final Map<String, double[]> javaTimes = new java.util.LinkedHashMap<>();

  /** Runs the PyTorch script on the same networks and batches and prints Java's time over PyTorch's. */
  private void compareWithTorch() throws IOException {
    List<String> nets = configs.stream().filter(c -> c.equals("small") || c.equals("cpu")).toList();
    if (nets.isEmpty()) {
      System.out.println("torch: only the small and cpu networks are written in PyTorch");
      return;
    }
    int threads = Runtime.getRuntime().availableProcessors();
    String omp = System.getenv("OMP_NUM_THREADS");
    if (omp != null && omp.matches("\\d+")) {
      threads = Integer.parseInt(omp);
    }
    List<String> cmd = List.of("python3", torch, "--configs", String.join(",", nets), "--batches",
        String.join(",", batches.stream().map(String::valueOf).toList()), "--warmup", String.valueOf(warmup),
        "--reps", String.valueOf(reps), "--threads", String.valueOf(threads), "--prompts", String.valueOf(prompts));
    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> lines = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
    try {
      if (proc.waitFor() != 0) {
        System.out.println("torch: " + String.join(" ", cmd) + " failed:\n" + String.join("\n", lines));
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    java.util.regex.Pattern line = java.util.regex.Pattern.compile(
        "torch (\\S+) batch (\\d+): step ([0-9.]+) forward ([0-9.]+) threads (\\d+)");
    for (String l : lines) {
      java.util.regex.Matcher m = line.matcher(l);
      if (!m.matches()) {
        continue;
      }
      double[] j = javaTimes.get(m.group(1) + " " + m.group(2));
      double step = Double.parseDouble(m.group(3));
      double fwd = Double.parseDouble(m.group(4));
      System.out.printf(Locale.ROOT, "%-5s batch %s: PyTorch (%s threads) step %.3f s, forward %.3f s; "
          + "this project / PyTorch: step %.2f, forward %.2f%n", m.group(1), m.group(2), m.group(5), step, fwd,
          j == null ? Double.NaN : j[1] / step, j == null ? Double.NaN : j[0] / fwd);
    }
  }

  private Map<String, INDArray> inputs(NetworkConfig c, int b) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(PromptDasGraph.IMAGE, Nd4j.randn(DataType.FLOAT, b, 3, c.imageSize(), c.imageSize()));
    ph.put(PromptDasGraph.POINTS, Nd4j.rand(DataType.FLOAT, b, 8, 2).muli(c.imageSize() - 1));
    int[] valid = new int[b];
    Arrays.fill(valid, prompts);
    ph.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, 8, 0, DataType.FLOAT));
    ph.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, 8, 0, DataType.FLOAT));
    return ph;
  }

  /** The forward graphs of the batch being timed, one per shard. */
  private final List<SameDiff> forwardGraphs = new ArrayList<>();

  /** One forward pass of a batch of {@code b}, in as many shards as {@code engines}, side by side. */
  private void forwardOnce(List<Engine> engines, Weights w, int b, OpTimes times) {
    int per = b / engines.size();
    while (forwardGraphs.size() < engines.size()) {
      // SameDiff's own sessions cannot run the forward-only graph's views
      SameDiff g = sessionPerGraph ? PromptDasGraph.build(w, per, 8, 0, DataType.FLOAT)
          : PromptDasGraph.buildInference(w, per, 8, 0, DataType.FLOAT);
      forwardGraphs.add(g);
      if (opTimes > 0) {
        times.attach(g);
      }
    }
    List<Callable<Map<String, INDArray>>> tasks = new ArrayList<>();
    for (int i = 0; i < engines.size(); i++) {
      SameDiff g = forwardGraphs.get(i);
      Engine engine = engines.get(i);
      tasks.add(() -> {
        Map<String, INDArray> in = inputs(w.config(), per);
        return sessionPerGraph ? g.output(in, PromptDasGraph.SEG_LOGITS, PromptDasGraph.DET)
            : engine.output(g, in, PromptDasGraph.SEG_LOGITS, PromptDasGraph.DET);
      });
    }
    Engine.concurrently(tasks);
  }

  /**
   * A network to time: its name, configuration, whether its training steps recompute the encoder
   * and how many shards a batch runs in (at most).
   */
  private record Network(String name, NetworkConfig config, boolean recompute, int shards) {}

  /** A student for the benchmark's step: a mean-squared loss of all three heads, times {@code scale}. */
  private record BenchStudent(StudentGraph student, String loss, Map<String, INDArray> inputs) {}

  private BenchStudent benchStudent(Weights w, int b, boolean recomputeEncoder, double scale, boolean ownSession) {
    NetworkConfig c = w.config();
    StudentGraph student = StudentGraph.build(w, b, 8, 0, recomputeEncoder);
    SameDiff sd = student.head();
    SDVariable segT = sd.constant(Nd4j.rand(DataType.FLOAT, b, c.maskSize(), c.maskSize()));
    SDVariable detT = sd.constant(Nd4j.rand(DataType.FLOAT, b, 1, c.imageSize(), c.imageSize()));
    SDVariable loss = sd.mean(sd.math.square(sd.getVariable(PromptDasGraph.SEG_LOGITS).sub(segT)))
        .add(sd.mean(sd.math.square(sd.getVariable(PromptDasGraph.DET).sub(detT))))
        .add(sd.mean(sd.math.square(sd.getVariable(PromptDasGraph.CONTRAST)))).mul(scale);
    sd.setLossVariables(loss.name());
    if (ownSession) {
      Engine.prepareGradients(sd, Engine.Backward.COPIES);
    } else {
      student.prepare();
    }
    return new BenchStudent(student, loss.name(), inputs(c, b));
  }

  /**
   * Training steps of a batch of {@code b} in {@code parts} shards side by side (each shard's loss
   * scaled by 1 / parts, so that the gradients add up to the batch's), the AdamW update, and the
   * updated weights copied into the other shards' graphs.
   */
  private Timing timeTraining(Weights w, int b, boolean recomputeEncoder, int parts, double flops)
      throws IOException {
    boolean ownSession = sessionPerGraph && !recomputeEncoder;
    List<BenchStudent> students = new ArrayList<>();
    List<Engine> engines = new ArrayList<>();
    for (int i = 0; i < parts; i++) {
      students.add(benchStudent(w, b / parts, recomputeEncoder, 1.0 / parts, ownSession));
      engines.add(new Engine());
    }
    StudentGraph first = students.get(0).student();
    OpTimes times = new OpTimes();
    if (opTimes > 0) {
      first.graphs().forEach(times::attach);
    }
    Map<String, INDArray> params = first.trainables();
    List<String> names = new ArrayList<>(params.keySet());
    AdamW opt = AdamW.defaults();
    return time(() -> {
      List<Callable<Map<String, INDArray>>> tasks = new ArrayList<>();
      for (int i = 0; i < parts; i++) {
        BenchStudent s = students.get(i);
        Engine engine = engines.get(i);
        tasks.add(() -> ownSession ? s.student().head().calculateGradients(s.inputs(), names)
            : s.student().gradientsAndOutputs(engine, s.inputs(), List.of(s.loss())).getGradients());
      }
      List<Map<String, INDArray>> grads = Engine.concurrently(tasks);
      long t0 = System.nanoTime();
      grads.subList(1, parts).forEach(g -> grads.get(0).forEach((k, v) -> v.addi(g.get(k))));
      opt.update(params, grads.get(0), 1e-5);
      for (BenchStudent s : students.subList(1, parts)) {
        Map<String, INDArray> mirror = s.student().trainables();
        params.forEach((k, v) -> mirror.get(k).assign(v));
      }
      updateNanos += System.nanoTime() - t0;
    }, times, flops);
  }

  /**
   * {@link #trainerSteps} steps of {@link Trainer} in UDA mode on crops of generated slices (16
   * source and 16 target crops, alternating halves), printing every 10 steps the median step
   * time and the resident memory: the whole step (targets, teacher, student, update, releases)
   * and whether its memory stays flat.
   */
  private void runTrainer(String name, Weights w, int b, int parts) throws IOException {
    int n = w.config().imageSize();
    TrainConfig cfg = TrainConfig.forNetwork(name, Mode.UDA, Math.max(trainerSteps, 10), 1).with(true, true, true,
        true, b, 1e-3);
    Trainer trainer = new Trainer(w, cfg, new Execution(false, parts));
    List<Sample> source = new ArrayList<>();
    List<Sample> target = new ArrayList<>();
    for (int i = 0; i < 2 * b; i++) {
      source.add(crop(Domain.SOURCE, 100 + i, n, true));
      target.add(crop(Domain.TARGET, 200 + i, n, false));
    }
    double[] t = new double[trainerSteps];
    for (int s = 0; s < trainerSteps; s++) {
      int from = (s % 2) * b;
      t[s] = trainer.step(source.subList(from, from + b), target.subList(from, from + b)).seconds();
      if (s % 10 == 9 || s == trainerSteps - 1) {
        double[] last = Arrays.copyOfRange(t, s - s % 10, s + 1);
        Arrays.sort(last);
        System.out.printf(Locale.ROOT, "%-5s batch %d: trainer steps %d-%d: median %.3f s, resident %.3f GB, shards %d%n",
            name, b, s - s % 10 + 1, s + 1, last[last.length / 2], ProcessMemory.residentGb(), parts);
      }
    }
  }

  /** A crop of a generated 512 px slice at a place set by {@code seed}, labelled or with 15% points. */
  private static Sample crop(Domain d, long seed, int n, boolean labelled) {
    SynthEm.Sample s = SynthEm.generate(d, 512, 512, seed);
    Window win = new Window((int) (seed * 37 % (512 - n)), (int) (seed * 91 % (512 - n)), n, n);
    IntImage label = Crops.extract(s.labels(), win, Crops.Padding.ZERO);
    List<Point> points = PointSampler.choose(CentrePoints.of(Instances.ofIds(label)), 0.15, seed, "bench", 0);
    return new Sample(Crops.extract(s.image(), win, Crops.Padding.REFLECT), labelled ? label : null,
        labelled ? List.of() : points);
  }

  /** The sgemm yardstick, sampled before every timed run (made once the arguments are checked). */
  private SgemmRate sgemm;

  /** Nanoseconds spent in AdamW updates since the last warm-up ended. */
  private long updateNanos;

  /**
   * The median seconds of a stage's timed runs, and the median of their paired ratios (each run's
   * time over the time its FLOPs take at the sgemm rate sampled just before it).
   */
  private record Timing(double median, double pairedRatio) {
    /** The median time over the time {@code flops} take at {@code gflops}. */
    double ratio(double flops, double gflops) {
      return BenchModel.ratio(median, flops, gflops);
    }
  }

  /** {@code seconds} over the time {@code flops} take at {@code gflops} GFLOP/s. */
  private static double ratio(double seconds, double flops, double gflops) {
    return seconds / (flops / 1e9 / gflops);
  }

  /**
   * {@link #reps} runs of {@code r} (of {@code flops} FLOPs) after {@link #warmup} untimed ones, with
   * a GC between runs and an sgemm sample before each timed run; prints every run's time, warm-up
   * included, so the approach to steady state is visible, the sgemm samples, and the resident
   * memory after the first and the last timed run, so growth per run shows (run with many
   * {@code --reps} to see whether memory stays flat), and with {@code --op-times} where the timed
   * runs' time went.
   */
  private Timing time(Runnable r, OpTimes times, double flops) throws IOException {
    double[] all = new double[warmup + reps];
    double[] rates = new double[reps];
    double firstRss = Double.NaN;
    for (int i = 0; i < all.length; i++) {
      if (i == warmup) {
        times.reset();
        updateNanos = 0;
      }
      if (i >= warmup) {
        rates[i - warmup] = sgemm.sample(2);
      }
      long t0 = System.nanoTime();
      r.run();
      all[i] = (System.nanoTime() - t0) / 1e9;
      System.gc();
      if (i == warmup) {
        firstRss = ProcessMemory.residentGb();
      }
    }
    StringBuilder runs = new StringBuilder("  runs (s):");
    for (int i = 0; i < all.length; i++) {
      runs.append(String.format(Locale.ROOT, i == warmup ? " | %.2f" : " %.2f", all[i]));
    }
    System.out.println(runs);
    StringBuilder samples = new StringBuilder("  sgemm before each timed run (GFLOP/s):");
    for (double g : rates) {
      samples.append(String.format(Locale.ROOT, " %.0f", g));
    }
    System.out.println(samples);
    double lastRss = ProcessMemory.residentGb();
    System.out.printf(Locale.ROOT, "  resident after timed run 1: %.3f GB, after run %d: %.3f GB (%+.1f MB per run)%n",
        firstRss, reps, lastRss, reps > 1 ? (lastRss - firstRss) * 1024 / (reps - 1) : 0.0);
    double[] t = Arrays.copyOfRange(all, warmup, all.length);
    if (opTimes > 0) {
      String update = updateNanos == 0 ? ""
          : String.format(Locale.ROOT, ", %.3f s in AdamW updates", updateNanos / 1e9 / reps);
      System.out.printf(Locale.ROOT, "  per timed run: %.3f s in ops%s, of %.3f s (mean); top ops:%n",
          times.seconds() / reps, update, Arrays.stream(t).sum() / reps);
      System.out.print(times.table(opTimes, reps));
      if (slowestOps > 0) {
        System.out.println("  slowest single ops:");
        System.out.print(times.slowest(slowestOps, reps));
      }
      double products = times.productSeconds();
      if (products > 0) {
        double rate = times.flops() / products / 1e9;
        System.out.printf(Locale.ROOT, "  products (matmul, conv2d, tensordot): %.1f GFLOP in %.3f s per run, "
            + "%.1f GFLOP/s (%.2f of the best sgemm so far); all other ops: %.3f s%n", times.flops() / 1e9 / reps,
            products / reps, rate, rate / sgemm.best(), (times.seconds() - products) / reps);
      }
    }
    double[] paired = new double[reps];
    for (int i = 0; i < reps; i++) {
      paired[i] = ratio(t[i], flops, rates[i]);
    }
    return new Timing(median(t), median(paired));
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}

package org.promptdas.jobs.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.core.config.ConfigLoader;
import org.promptdas.core.config.Overrides;
import org.promptdas.core.geometry.TileGrid;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.jobs.spark.Sparks;
import org.promptdas.jobs.stages.InferStage;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.train.Execution;
import org.promptdas.model.network.Weights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-infer}: the nightly-inference budget. Generated slices (default 4096x4096) go through
 * the {@code infer} stage itself (reading, sliding windows, rotations, thresholding, writing PNGs;
 * Spark {@code local[1]}: one slice at a time, as one executor task slot, with every core for the
 * network) for each network, rotation setting and stride; per mode it prints the windows per
 * slice, seconds per slice (infer's own per-slice time, median), windows per second, slices per
 * executor-hour and peak resident memory. A last run pushes {@code --memory-slices} slices through
 * the cheapest mode of the first network and prints the resident memory's peak slice by slice:
 * infer holds one slice and one model whatever the count. With {@code --size} below 4096 the seconds and
 * slices per hour of a 4096x4096 slice are computed from the measured windows per second (the
 * line says so). A benchmark: it prints numbers and asserts nothing.
 */
@Command(name = "bench-infer", mixinStandardHelpOptions = true,
    description = "Benchmark whole-slice inference through the infer stage: s/slice, windows/s, memory.")
public final class BenchInfer implements Callable<Integer> {
  private static final int FULL = 4096;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SAMPLE_MS = 200;

  @Option(names = "--configs", split = ",", description = "Networks (random weights): tiny, small, cpu, "
      + "paper (default small,paper).")
  List<String> configs = List.of("small", "paper");

  @Option(names = "--model", description = "A model file to time instead of random-weight networks.")
  Path model;

  @Option(names = "--size", description = "Side of the generated slices in px (default 4096).")
  int size = FULL;

  @Option(names = "--strides", split = ",", description = "Window strides in px (default: a third, "
      + "half and all of the window: 128,192,384 for the paper network, 42,64,128 for 128 px windows).")
  List<Integer> strides = List.of();

  @Option(names = "--rotations", split = ",", arity = "1", description = "Rotation settings to run (default true,false).")
  List<Boolean> rotations = List.of(true, false);

  @Option(names = "--batch", description = "Windows per forward pass (default 8).")
  int batch = 8;

  @Option(names = "--threads", description = "infer.threads: shards per forward pass, side by side "
      + "with single-threaded ops (default 0: auto, which in this one-slot run means the machine's "
      + "cores for networks below 1024 encoder tokens; 1: each op spread over the cores).")
  int threads;

  @Option(names = "--slices", description = "Timed slices per mode (default 1).")
  int slices = 1;

  @Option(names = "--memory-slices", description = "Slices of the memory run (default 10; 0 skips it).")
  int memorySlices = 10;

  @Option(names = "--work", description = "Work folder (default: a temporary one, deleted at the end).")
  Path work;

  /** {@link #threads}, with auto resolved as infer would on an executor with every core of this machine. */
  private int threadsFor(Network n) {
    return Execution.threads(threads, n.config(), Runtime.getRuntime()::availableProcessors);
  }

  /** One network to time: its name, configuration and model file. */
  private record Network(String name, NetworkConfig config, Path file) {
    int window() {
      return config.imageSize();
    }
  }

  /** One mode's figures. */
  private record Mode(String network, int window, boolean rotations, int stride, int windows,
      double secondsPerSlice, double peakGb) {
    double windowsPerSecond() {
      return windows / secondsPerSlice;
    }
  }

  @Override
  public Integer call() throws IOException {
    if (size < 16 || slices < 1 || memorySlices < 0 || batch < 1 || threads < 0 || rotations.isEmpty()) {
      throw new BadConfig("--size must be at least 16, --slices and --batch at least 1, --memory-slices and "
          + "--threads at least 0 and --rotations not empty; got " + size + ", " + slices + ", " + batch + ", "
          + memorySlices + ", " + threads + " and " + rotations);
    }
    if (model != null && !Files.isRegularFile(model)) {
      throw new BadConfig("--model " + model + ": no such file");
    }
    boolean temporary = work == null;
    Path dir = temporary ? Files.createTempDirectory("bench-infer") : Files.createDirectories(work);
    try {
      List<Network> networks = networks(dir);
      for (Network n : networks) {
        for (int s : strides(n)) {
          if (s < 1 || s > n.window()) {
            throw new BadConfig("--strides: " + s + " is not in 1.." + n.window() + " (the " + n.name() + " window)");
          }
        }
      }
      int count = Math.max(slices, memorySlices);
      System.out.printf(Locale.ROOT, "generating %d target-domain slices of %dx%d ...%n", count, size, size);
      Path all = slicesFolder(dir.resolve("slices-" + count), count, size);
      Path timed = linkFirst(all, dir.resolve("slices-" + slices), slices);
      Path warm = slicesFolder(dir.resolve("warm-up"), 1, 2 * networks.stream().mapToInt(Network::window).max().orElseThrow());
      Config base = ConfigLoader.load(List.of(), List.of("prompt-das.spark.master=\"local[1]\""));
      SparkSession spark = Sparks.session(base, "bench-infer");
      System.out.printf(Locale.ROOT, "%d timed slice(s) of %dx%d per mode, batch %d, Spark local[1], %d cores "
          + "for ND4J; peak RSS per mode%s%n", slices, size, size, batch, Runtime.getRuntime().availableProcessors(),
          ProcessMemory.resetPeak() ? "" : " (cannot be reset here: the whole run's peak)");
      List<Mode> modes = new ArrayList<>();
      for (Network n : networks) {
        infer(spark, base, n, warm, true, strides(n).get(0), dir.resolve("out-warm-up"));
        delete(dir.resolve("out-warm-up"));
        for (boolean rot : rotations) {
          for (int s : strides(n)) {
            modes.add(timeMode(spark, base, n, timed, rot, s, dir));
          }
        }
      }
      if (memorySlices > 0) {
        Network n = networks.get(0);
        int s = strides(n).stream().max(Integer::compare).orElseThrow();
        boolean rot = !rotations.contains(false);
        memoryRun(spark, base, n, all, rot, s, dir.resolve("out-memory"));
      }
      summary(modes);
      return 0;
    } finally {
      if (temporary) {
        delete(dir);
      }
    }
  }

  private List<Network> networks(Path dir) {
    if (model != null) {
      PromptDasModel m = ModelFile.load(model, null);
      return List.of(new Network(model.getFileName().toString(), m.config(), model));
    }
    List<Network> out = new ArrayList<>();
    for (String name : configs) {
      NetworkConfig cfg = NetworkConfig.named(name);
      Path file = dir.resolve(name + ".pdas");
      ModelFile.save(new PromptDasModel(Weights.initialise(cfg, 1)), file);
      out.add(new Network(name, cfg, file));
    }
    return out;
  }

  private List<Integer> strides(Network n) {
    return strides.isEmpty() ? List.of(n.window() / 3, n.window() / 2, n.window()) : strides;
  }

  /** Runs one mode over the slices of {@code images}: infer's median seconds per slice, the peak. */
  private Mode timeMode(SparkSession spark, Config base, Network n, Path images, boolean rot, int stride,
      Path dir) throws IOException {
    Path out = dir.resolve("out-" + n.name() + "-" + rot + "-" + stride);
    ProcessMemory.resetPeak();
    double[] seconds = infer(spark, base, n, images, rot, stride, out);
    double peak = ProcessMemory.peakGb();
    delete(out);
    Arrays.sort(seconds);
    int windows = windows(n.window(), stride, rot, size);
    Mode m = new Mode(n.name(), n.window(), rot, stride, windows, seconds[seconds.length / 2], peak);
    System.out.printf(Locale.ROOT, "%-6s rotations %-5b stride %3d: %6d windows/slice, %8.1f s/slice (median of %d), "
        + "%6.3g windows/s, peak RSS %.2f GB%n", m.network(), rot, stride, windows, m.secondsPerSlice(),
        seconds.length, m.windowsPerSecond(), peak);
    return m;
  }

  /**
   * The infer stage over every slice of {@code images} with the resident memory sampled every
   * {@value #SAMPLE_MS} ms: prints its peak while each slice ran (a slice ends when its stats are
   * written), which stays flat when infer holds one slice and one model whatever the count.
   */
  private void memoryRun(SparkSession spark, Config base, Network n, Path images, boolean rot, int stride,
      Path out) throws IOException {
    List<double[]> samples = Collections.synchronizedList(new ArrayList<>()); // {epoch ms, GB}
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "resident-memory-sampler");
      t.setDaemon(true);
      return t;
    });
    sampler.scheduleAtFixedRate(() -> samples.add(new double[] {System.currentTimeMillis(),
        ProcessMemory.residentGb()}), 0, SAMPLE_MS, TimeUnit.MILLISECONDS);
    try {
      infer(spark, base, n, images, rot, stride, out);
    } finally {
      sampler.shutdownNow();
    }
    long[] ends;
    try (Stream<Path> stats = Files.list(out.resolve("stats"))) {
      ends = stats.mapToLong(p -> p.toFile().lastModified()).sorted().toArray();
    }
    double[] peaks = new double[ends.length];
    synchronized (samples) {
      for (double[] sample : samples) {
        for (int k = 0; k < ends.length; k++) {
          if (sample[0] <= ends[k]) {
            peaks[k] = Math.max(peaks[k], sample[1]);
            break;
          }
        }
      }
    }
    StringBuilder line = new StringBuilder();
    for (double p : peaks) {
      line.append(String.format(Locale.ROOT, " %.2f", p));
    }
    System.out.printf(Locale.ROOT, "memory: %s, rotations %b, stride %d, %d slices: resident-memory peak while "
        + "each slice ran (GB):%s%n", n.name(), rot, stride, ends.length, line);
    delete(out);
  }

  /** The infer stage on {@code images}; each slice's own seconds from its stats. */
  private double[] infer(SparkSession spark, Config base, Network n, Path images, boolean rot, int stride,
      Path out) throws IOException {
    Config c = Overrides.of(base).set(InferStage.IMAGES, images.toString()).set(InferStage.MODEL, n.file().toString())
        .set(InferStage.OUT, out.toString()).set(InferStage.STRIDE, stride).set(InferStage.ROTATIONS, rot)
        .set(InferStage.BATCH, batch).set(InferStage.THREADS, threadsFor(n)).config();
    new InferStage().runWith(c, spark);
    try (Stream<Path> stats = Files.list(out.resolve("stats"))) {
      return stats.mapToDouble(p -> {
        try {
          return JSON.readTree(p.toFile()).get("seconds").asDouble();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toArray();
    }
  }

  /** Slices per executor-hour of a 4096x4096 slice for every mode, from its windows per second. */
  private void summary(List<Mode> modes) {
    System.out.println();
    System.out.println("| network | rotations | stride | windows per 4096^2 slice | windows/s | s per 4096^2 slice "
        + "| slices per executor-hour | peak RSS (GB) |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (Mode m : modes) {
      int windows = windows(m.window(), m.stride(), m.rotations(), FULL);
      double s = size == FULL ? m.secondsPerSlice() : windows / m.windowsPerSecond();
      System.out.printf(Locale.ROOT, "| %s | %s | %d | %d | %.3g | %.0f%s | %.3g | %.2f |%n", m.network(),
          m.rotations() ? "4" : "off", m.stride(), windows, m.windowsPerSecond(), s, size == FULL ? "" : " (from windows/s)",
          3600 / s, m.peakGb());
    }
  }

  /** Windows (rotations counted) the paper's sliding window runs over a {@code side}^2 slice. */
  private static int windows(int window, int stride, boolean rotations, int side) {
    return new TileGrid(window, stride, TileGrid.SmallSlicePolicy.PAD).count(side, side, "bench") * (rotations ? 4 : 1);
  }

  /** {@code count} generated target-domain slices of {@code side} px as PNGs. */
  private static Path slicesFolder(Path folder, int count, int side) throws IOException {
    Files.createDirectories(folder);
    for (int i = 0; i < count; i++) {
      Path f = folder.resolve(String.format(Locale.ROOT, "slice_%03d.png", i));
      if (!Files.exists(f)) {
        Files.write(f, PngWriter.grey8(SynthEm.generate(Domain.TARGET, side, side, 100 + i).image()));
      }
    }
    return folder;
  }

  /** A folder of links to the first {@code count} slices of {@code all}. */
  private static Path linkFirst(Path all, Path folder, int count) throws IOException {
    Files.createDirectories(folder);
    try (Stream<Path> files = Files.list(all)) {
      for (Path f : files.sorted().limit(count).toList()) {
        if (!Files.exists(folder.resolve(f.getFileName()))) {
          Files.createSymbolicLink(folder.resolve(f.getFileName()), f.toAbsolutePath());
        }
      }
    }
    return folder;
  }

  private static void delete(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

package org.promptdas.jobs.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.labels.ConnectedComponents;
import org.promptdas.core.labels.Connectivity;
import org.promptdas.core.metrics.Protocol;
import org.promptdas.core.metrics.Scorer;
import org.promptdas.core.metrics.SliceScores;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-metrics}: the time to score one large slice (default 4096x4096, about 2,500
 * instances) with this project's scorer and with the reference {@code metrics_ref.py}, measured in
 * the same run on the same masks (written as PNGs so both read identical data; decoding is not
 * timed on either side). Prints per-run times, medians, the speed-up and whether the scores agree.
 * A benchmark, not a test: nothing here asserts a time.
 */
@Command(name = "bench-metrics", mixinStandardHelpOptions = true,
    description = "Benchmark slice scoring against the Python reference (metrics_ref.py).")
public final class BenchMetrics implements Callable<Integer> {

  @Option(names = "--size", description = "Slice size in px (default 4096).")
  int size = 4096;

  @Option(names = "--reps", description = "Timed repetitions per side (default 5).")
  int reps = 5;

  @Option(names = "--python", description = "Python with numpy, opencv, Pillow (default /usr/bin/python3).")
  String python = "/usr/bin/python3";

  @Option(names = "--reference", description = "metrics_ref.py (default ../shared/reference/metrics_ref.py).")
  Path reference = Path.of("../shared/reference/metrics_ref.py");

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(reference)) {
      throw new BadConfig(reference + ": reference script not found (set --reference)");
    }
    System.out.printf(Locale.ROOT, "generating a %dx%d target-domain slice ...%n", size, size);
    SynthEm.Sample s = SynthEm.generate(Domain.TARGET, size, size, 2026);
    IntImage gt = s.labels().binarize();
    IntImage pred = degrade(gt);
    int instances = ConnectedComponents.label(gt, Connectivity.EIGHT).count();
    Path dir = Files.createTempDirectory("bench-metrics");
    try {
      Files.write(dir.resolve("pred.png"), PngWriter.mask(pred));
      Files.write(dir.resolve("gt.png"), PngWriter.mask(gt));
      Scorer scorer = new Scorer(Protocol.BINARY, 15);
      SliceScores ours = scorer.score(pred, gt); // warm-up
      scorer.score(pred, gt);
      double[] java = new double[reps];
      for (int i = 0; i < reps; i++) {
        long t0 = System.nanoTime();
        ours = scorer.score(pred, gt);
        java[i] = (System.nanoTime() - t0) / 1e9;
      }
      String[] py = runReference(dir);
      double[] ref = Arrays.stream(py[0].trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
      double[] refScores = Arrays.stream(py[1].trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
      double maxDiff = 0;
      String[] keys = {"dice", "aji", "pq", "dq", "sq"};
      for (int k = 0; k < keys.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(ours.get(keys[k]) - refScores[k]));
      }
      double mj = median(java);
      double mr = median(ref);
      System.out.printf(Locale.ROOT, "slice %dx%d, %d ground-truth instances, %d predicted%n", size, size,
          instances, ConnectedComponents.label(pred, Connectivity.EIGHT).count());
      System.out.printf(Locale.ROOT, "java scorer      : %s s (median %.3f s)%n", fmt(java), mj);
      System.out.printf(Locale.ROOT, "metrics_ref.py   : %s s (median %.3f s)%n", fmt(ref), mr);
      System.out.printf(Locale.ROOT, "scores: dice=%.6f aji=%.6f pq=%.6f; max |java - reference| = %.2e%n",
          ours.dice(), ours.aji(), ours.pq(), maxDiff);
      System.out.printf(Locale.ROOT, "speedup=%.2f (reference median / java median)%n", mr / mj);
      return 0;
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  /** Runs the reference's evaluate() {@code reps} times; returns {times, scores} as text lines. */
  private String[] runReference(Path dir) throws IOException, InterruptedException {
    String code = String.join("\n",
        "import sys, time, numpy as np",
        "from PIL import Image",
        "sys.path.insert(0, sys.argv[1])",
        "import metrics_ref as m",
        "p = np.array(Image.open(sys.argv[2])); g = np.array(Image.open(sys.argv[3]))",
        "m.evaluate(p, g)",
        "ts = []",
        "for _ in range(int(sys.argv[4])):",
        "    t = time.perf_counter(); r = m.evaluate(p, g); ts.append(time.perf_counter() - t)",
        "print(' '.join(repr(t) for t in ts))",
        "print(' '.join(repr(r[k]) for k in ('dice', 'aji', 'pq', 'dq', 'sq')))");
    List<String> cmd = new ArrayList<>(List.of(python, "-c", code,
        reference.toAbsolutePath().getParent().toString(), dir.resolve("pred.png").toString(),
        dir.resolve("gt.png").toString(), Integer.toString(reps)));
    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (proc.waitFor() != 0) {
      throw new BadConfig("the reference did not run (" + python + "; Debian: apt-get install "
          + "python3-numpy python3-opencv python3-pil):\n" + out);
    }
    return out.trim().split("\n");
  }

  /** A realistic prediction: dilate by one pixel, drop every 7th instance, add small specks. */
  private static IntImage degrade(IntImage gt) {
    int w = gt.width();
    int h = gt.height();
    var cc = ConnectedComponents.label(gt, Connectivity.EIGHT).labels().data();
    int[] out = new int[gt.size()];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int l = cc[y * w + x];
        if (l != 0 && l % 7 != 0) {
          for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
              int xx = x + dx;
              int yy = y + dy;
              if (xx >= 0 && yy >= 0 && xx < w && yy < h) {
                out[yy * w + xx] = 1;
              }
            }
          }
        }
      }
    }
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    for (int k = 0; k < gt.size() / 4000; k++) {
      int x = r.nextInt(w - 4);
      int y = r.nextInt(h - 4);
      int sz = r.nextInt(2, 5);
      for (int dy = 0; dy < sz; dy++) {
        for (int dx = 0; dx < sz; dx++) {
          out[(y + dy) * w + x + dx] = 1;
        }
      }
    }
    return new IntImage(w, h, out);
  }

  private static double median(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
  }

  private static String fmt(double[] v) {
    StringBuilder s = new StringBuilder();
    for (double x : v) {
      s.append(s.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.3f", x));
    }
    return s.toString();
  }
}

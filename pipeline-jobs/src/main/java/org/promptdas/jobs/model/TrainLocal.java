package org.promptdas.jobs.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.geometry.Crops;
import org.promptdas.core.geometry.Window;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.AtomicFiles;
import org.promptdas.core.io.ImageFormat;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.labels.CentrePoints;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Point;
import org.promptdas.core.labels.PointSampler;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Checkpoint;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.Sample;
import org.promptdas.model.train.StepResult;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train-local}: single-process training for laptops and tests (no Spark). Slices are read
 * from local folders (images, and labels paired by name), random crops are drawn per step from
 * (seed, step), sparse target points are sampled from the target labels at a fraction (WDA) the
 * way the {@code points} stage will. Writes {@code OUT/checkpoints/step-NNNNNN.ckpt} every N
 * steps (atomically), {@code OUT/history.csv} (one row per step), and at the end
 * {@code OUT/model.pdas} (the teacher when adapting, else the student). {@code --resume} continues
 * from the newest checkpoint and ends with the same parameters as an uninterrupted run.
 */
@Command(name = "train-local", mixinStandardHelpOptions = true,
    description = "Train Prompt-DAS in one process (source-only, UDA, WDA or oracle).")
public final class TrainLocal implements Callable<Integer> {
  @Option(names = "--source-images", required = true, description = "Source slices (folder).")
  Path sourceImages;

  @Option(names = "--source-labels", required = true, description = "Source labels (folder, same names).")
  Path sourceLabels;

  @Option(names = "--target-images", description = "Target slices (folder); needed unless source-only.")
  Path targetImages;

  @Option(names = "--target-labels", description = "Target labels: sparse points are sampled from them (WDA) or used whole (oracle).")
  Path targetLabels;

  @Option(names = "--mode", description = "source-only, uda, wda or oracle (default wda).")
  String mode = "wda";

  @Option(names = "--point-fraction", description = "Fraction of target instances with a point (WDA, default 0.15).")
  double pointFraction = 0.15;

  @Option(names = "--network", description = "tiny or paper (default tiny).")
  String network = "tiny";

  @Option(names = "--init", description = "Start from this model file (e.g. a source model).")
  Path init;

  @Option(names = "--steps", description = "Total steps (default 200).")
  int steps = 200;

  @Option(names = "--batch", description = "Source crops per step (as many target crops join; default 1).")
  int batch = 1;

  @Option(names = "--lr", description = "Initial learning rate (default 1e-3 for tiny, the paper's 1e-5 for paper).")
  Double lr;

  @Option(names = "--seed", description = "Seed of every random choice (default 42).")
  long seed = 42;

  @Option(names = "--checkpoint-every", description = "Steps between checkpoints (default 50).")
  int checkpointEvery = 50;

  @Option(names = "--resume", description = "Continue from the newest checkpoint in OUT/checkpoints.")
  boolean resume;

  @Option(names = "--out", required = true, description = "Output folder.")
  Path out;

  @Option(names = "--no-detection-pseudo-labels", description = "Ablation: no target density pseudo-labels.")
  boolean noDet;

  @Option(names = "--no-segmentation-pseudo-labels", description = "Ablation: no target mask pseudo-labels.")
  boolean noSeg;

  @Option(names = "--no-training-prompts", description = "Ablation: no target training prompts.")
  boolean noPrompts;

  @Option(names = "--no-pcl", description = "Ablation: no prompt-guided contrastive loss.")
  boolean noPcl;

  @Override
  public Integer call() throws IOException {
    Mode m = parseMode(mode);
    NetworkConfig net = switch (network) {
      case "tiny" -> NetworkConfig.tiny();
      case "paper" -> NetworkConfig.paper();
      default -> throw new BadConfig("--network must be tiny or paper, got " + network);
    };
    if (m != Mode.SOURCE_ONLY && targetImages == null) {
      throw new BadConfig("--target-images is needed in mode " + mode);
    }
    if ((m == Mode.ORACLE || m == Mode.WDA) && targetLabels == null) {
      throw new BadConfig("--target-labels is needed in mode " + mode + " (points are sampled from them)");
    }
    List<Sample> source = slices(sourceImages, sourceLabels, net.imageSize(), false, 0);
    List<Sample> target = m == Mode.SOURCE_ONLY ? List.of()
        : slices(targetImages, m == Mode.UDA ? null : targetLabels, net.imageSize(), m == Mode.WDA, pointFraction);
    TrainConfig preset = network.equals("tiny") ? TrainConfig.tiny(m, steps, seed)
        : TrainConfig.paper(m, steps, seed);
    TrainConfig cfg = preset.with(!noDet, !noSeg, !noPrompts, !noPcl, batch,
        lr != null ? lr : preset.learningRate());
    Path ckptDir = out.resolve("checkpoints");
    List<String> history = new ArrayList<>();
    Trainer t;
    Path latest = resume ? newest(ckptDir) : null;
    if (latest != null) {
      t = Checkpoint.load(latest, net);
      Path h = out.resolve("history.csv");
      if (Files.exists(h)) {
        Files.readAllLines(h).stream().skip(1).limit(t.step()).forEach(history::add);
      }
      System.out.println("resumed from " + latest + " at step " + t.step());
    } else {
      if (Files.exists(out.resolve("model.pdas")) || Files.isDirectory(ckptDir) && !resume) {
        throw new BadConfig(out + ": holds an earlier run (use --resume, or another --out)");
      }
      Weights w = init != null ? ModelFile.load(init, net).weights() : Weights.initialise(net, seed);
      t = new Trainer(w, cfg);
    }
    long started = System.nanoTime();
    long firstStep = t.step();
    while (t.step() < steps) {
      int s = (int) t.step();
      SplittableRandom rnd = new SplittableRandom(seed * 31 + s);
      StepResult r = t.step(crops(source, rnd, net.imageSize(), batch),
          m == Mode.SOURCE_ONLY ? List.of() : crops(target, rnd, net.imageSize(), batch));
      history.add(String.format(Locale.ROOT, "%d,%.3g,%.6f,%.6f,%.6f,%.6f,%.3f", r.step(),
          r.learningRate(), r.loss(), r.segmentation(), r.detection(), r.contrastive(), r.seconds()));
      double perStep = (System.nanoTime() - started) / 1e9 / (t.step() - firstStep);
      System.out.printf(Locale.ROOT, "step %d/%d loss %.4f (seg %.4f det %.4f pcl %.4f) lr %.2e, %.2f s/step, ETA %.0f s%n",
          r.step(), steps, r.loss(), r.segmentation(), r.detection(), r.contrastive(), r.learningRate(),
          perStep, perStep * (steps - t.step()));
      if (t.step() % checkpointEvery == 0 || t.step() == steps) {
        Checkpoint.save(t, ckptDir.resolve(String.format("step-%06d.ckpt", t.step())));
        writeHistory(history);
      }
    }
    Weights result = m == Mode.SOURCE_ONLY || m == Mode.ORACLE ? t.studentWeights() : t.teacherWeights();
    ModelFile.save(new PromptDasModel(result), out.resolve("model.pdas"));
    System.out.println("wrote " + out.resolve("model.pdas") + " and " + out.resolve("history.csv"));
    return 0;
  }

  private void writeHistory(List<String> rows) throws IOException {
    String csv = "step,lr,loss,seg,det,pcl,seconds\n" + String.join("\n", rows) + "\n";
    AtomicFiles.write(out.resolve("history.csv"), o -> o.write(csv.getBytes(StandardCharsets.UTF_8)));
  }

  static Mode parseMode(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "source-only", "source" -> Mode.SOURCE_ONLY;
      case "uda" -> Mode.UDA;
      case "wda" -> Mode.WDA;
      case "oracle" -> Mode.ORACLE;
      default -> throw new BadConfig("--mode must be source-only, uda, wda or oracle, got " + s);
    };
  }

  private static Path newest(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return null;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("step-\\d+\\.ckpt")).sorted()
          .reduce((a, b) -> b).orElse(null);
    }
  }

  /** Whole slices (with labels or sparse points) kept in memory; crops are cut per step. */
  private static List<Sample> slices(Path images, Path labels, int crop, boolean points,
      double fraction) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(images)) {
      files = s.filter(p -> ImageFormat.hasImageExtension(p.getFileName().toString())).sorted().toList();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new BadInput(images + ": no such folder");
    }
    if (files.isEmpty()) {
      throw new BadInput(images + ": no slices");
    }
    List<Sample> out = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      IntImage img = ImageReaders.readSingle(f);
      if (img.width() < crop || img.height() < crop) {
        throw new BadInput(f + ": " + img.width() + "x" + img.height() + " is smaller than the crop " + crop);
      }
      IntImage lab = null;
      List<Point> pts = List.of();
      if (labels != null) {
        String stem = f.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        Path lf;
        try (Stream<Path> s = Files.list(labels)) {
          lf = s.filter(p -> p.getFileName().toString().replaceFirst("\\.[^.]*$", "").equals(stem))
              .findFirst().orElseThrow(() -> new BadInput(f + ": no label named " + stem + ".* in " + labels));
        }
        lab = ImageReaders.readSingle(lf);
        if (!lab.sameSize(img)) {
          throw new BadInput(lf + ": label size differs from " + f);
        }
        if (points) {
          pts = PointSampler.choose(CentrePoints.of(Instances.of(lab)), fraction, 1, "target", i);
          lab = null;
        }
      }
      out.add(new Sample(img, lab, pts));
    }
    return out;
  }

  /** {@code n} random crops (with their labels and the points inside them). */
  private static List<Sample> crops(List<Sample> slices, SplittableRandom rnd, int size, int n) {
    List<Sample> out = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      Sample s = slices.get(rnd.nextInt(slices.size()));
      int x = rnd.nextInt(s.image().width() - size + 1);
      int y = rnd.nextInt(s.image().height() - size + 1);
      Window w = new Window(x, y, size, size);
      List<Point> pts = new ArrayList<>();
      for (Point p : s.points()) {
        if (p.x() >= x && p.y() >= y && p.x() < x + size && p.y() < y + size) {
          pts.add(new Point(p.x() - x, p.y() - y));
        }
      }
      out.add(new Sample(Crops.extract(s.image(), w, Crops.Padding.REFLECT),
          s.label() == null ? null : Crops.extract(s.label(), w, Crops.Padding.ZERO), pts));
    }
    return out;
  }
}

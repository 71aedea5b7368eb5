package org.promptdas.jobs.stages;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.config.Overrides;
import org.promptdas.core.config.Param;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.report.CellResult;
import picocli.CommandLine.Command;

/**
 * {@code demo}: the whole method on generated data in local mode, as the README's first command:
 * synth (a labelled source domain, an unlabelled target domain for training and a held-out target
 * test set) -> tile -> points (15% of the target training instances) -> train source-only, then UDA
 * and WDA starting from the source-only model (tiny network) -> sweep: infer and evaluate each model
 * on the target test set without and with testing prompts -> the comparison table and report.html.
 * Everything lands in one folder, which appears only when the demo has finished.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole method on generated data and print the comparison table.")
public final class DemoStage extends StageCommand {
  public static final Param<String> OUT = Param.required("prompt-das.demo.out", "output folder");
  public static final Param<Integer> SLICES = Param.integer("prompt-das.demo.slices",
      "training slices per domain", 1, 10_000);
  public static final Param<Integer> TEST_SLICES = Param.integer("prompt-das.demo.test-slices",
      "held-out target test slices", 1, 10_000);
  public static final Param<Integer> SIZE = Param.integer("prompt-das.demo.size", "slice size in px", 64, 8192);
  public static final Param<Long> SEED = Param.longValue("prompt-das.demo.seed", "seed of data and training");
  public static final Param<Integer> SOURCE_STEPS = Param.integer("prompt-das.demo.source-steps",
      "source-only training steps", 1, 1_000_000);
  public static final Param<Integer> ADAPT_STEPS = Param.integer("prompt-das.demo.adapt-steps",
      "UDA and WDA training steps (after source-only)", 1, 1_000_000);
  public static final Param<Integer> LOCAL_STEPS = Param.integer("prompt-das.demo.local-steps",
      "steps per averaging round (must divide both step counts)", 1, 1_000_000);
  public static final Param<Double> POINT_FRACTION = Param.number("prompt-das.demo.point-fraction",
      "fraction of target training instances with a point (WDA)", 0, 1);
  public static final Param<Double> TEST_PROMPTS = Param.number("prompt-das.demo.testing-prompts",
      "fraction of test instances given a testing prompt (the second column of results)", 0, 1);

  public static final Param<Integer> CROP = Param.integer("prompt-das.demo.crop",
      "training crop size in px (the tiny network's window)", 8, 8192);
  public static final Param<Integer> CROP_STRIDE = Param.integer("prompt-das.demo.crop-stride",
      "stride of the training crops in px", 1, 8192);
  public static final Param<Integer> INFER_STRIDE = Param.integer("prompt-das.demo.infer-stride",
      "sliding-window stride of the sweep's inference in px", 1, 8192);
  public static final Param<Integer> INFER_BATCH = Param.integer("prompt-das.demo.infer-batch",
      "windows per forward pass in the sweep's inference", 1, 1024);

  @Override
  protected String stage() {
    return "demo";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(OUT, SLICES, TEST_SLICES, SIZE, SEED, SOURCE_STEPS, ADAPT_STEPS, LOCAL_STEPS,
        POINT_FRACTION, TEST_PROMPTS, CROP, CROP_STRIDE, INFER_STRIDE, INFER_BATCH);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(OUT);
  }

  @Override
  protected void validate(Context ctx) {
    AtomicOutput.check(ctx.files(), ctx.files().qualify(ctx.get(OUT)), ctx.overwrite());
    for (Param<Integer> steps : List.of(SOURCE_STEPS, ADAPT_STEPS)) {
      if (ctx.get(steps) % ctx.get(LOCAL_STEPS) != 0) {
        throw new org.promptdas.core.PromptDasException.BadConfig(LOCAL_STEPS.path() + " = "
            + ctx.get(LOCAL_STEPS) + " does not divide " + steps.path() + " = " + ctx.get(steps));
      }
    }
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    long t0 = System.nanoTime();
    try (AtomicOutput output = AtomicOutput.begin(files, files.qualify(ctx.get(OUT)), ctx.overwrite())) {
      String dir = output.temp().toString();
      Overrides c = Overrides.of(ctx.config()).set(OVERWRITE, false)
          .set(SynthStage.WIDTH, ctx.get(SIZE)).set(SynthStage.HEIGHT, ctx.get(SIZE))
          .set(TrainStage.NETWORK, "tiny").set(TrainStage.PARTITIONS, 2)
          .set(TrainStage.LOCAL_STEPS, ctx.get(LOCAL_STEPS)).set(TrainStage.SEED, ctx.get(SEED))
          .set(TileStage.CROP, ctx.get(CROP)).set(TileStage.STRIDE, ctx.get(CROP_STRIDE))
          .set(InferStage.STRIDE, ctx.get(INFER_STRIDE)).set(InferStage.BATCH, ctx.get(INFER_BATCH));
      new SynthStage().runWith(c.set(SynthStage.OUT, dir + "/data").set(SynthStage.SLICES, ctx.get(SLICES))
          .set(SynthStage.SEED, ctx.get(SEED)).config(), ctx.spark());
      new SynthStage().runWith(c.set(SynthStage.OUT, dir + "/data-test").set(SynthStage.SLICES, ctx.get(TEST_SLICES))
          .set(SynthStage.SEED, ctx.get(SEED) + 1).set(SynthStage.DOMAINS, List.of("target")).config(), ctx.spark());
      new TileStage().runWith(c.set(TileStage.IMAGES, dir + "/data/source/img")
          .set(TileStage.LABELS, dir + "/data/source/lab").set(TileStage.VOLUME, "source")
          .set(TileStage.OUT, dir + "/crops/source").config(), ctx.spark());
      new PointsStage().runWith(c.set(PointsStage.LABELS, dir + "/data/target/lab")
          .set(PointsStage.FRACTION, ctx.get(POINT_FRACTION)).set(PointsStage.VOLUME, "target")
          .set(PointsStage.OUT, dir + "/points").config(), ctx.spark());
      new TileStage().runWith(c.set(TileStage.IMAGES, dir + "/data/target/img").set(TileStage.POINTS, dir + "/points")
          .set(TileStage.VOLUME, "target").set(TileStage.OUT, dir + "/crops/target").config(), ctx.spark());
      Overrides train = c.set(TrainStage.SOURCE, dir + "/crops/source").set(TrainStage.TARGET, dir + "/crops/target");
      new TrainStage().runWith(train.set(TrainStage.MODE, "source-only").set(TrainStage.STEPS, ctx.get(SOURCE_STEPS))
          .set(TrainStage.OUT, dir + "/runs/source-only").config(), ctx.spark());
      for (String mode : List.of("uda", "wda")) {
        new TrainStage().runWith(train.set(TrainStage.MODE, mode).set(TrainStage.STEPS, ctx.get(ADAPT_STEPS))
            .set(TrainStage.INIT, dir + "/runs/source-only/model.pdas").set(TrainStage.OUT, dir + "/runs/" + mode)
            .config(), ctx.spark());
      }
      List<String> models = List.of("source-only", "uda", "wda").stream()
          .map(m -> m + "=" + dir + "/runs/" + m + "/model.pdas").toList();
      new SweepStage().runWith(c.set(SweepStage.MODELS, models)
          .set(SweepStage.DATASETS, List.of("target-test=" + dir + "/data-test/target/img|" + dir + "/data-test/target/lab"))
          .set(SweepStage.FRACTIONS, List.of(0.0, ctx.get(TEST_PROMPTS))).set(SweepStage.OUT, dir + "/sweep")
          .set(SweepStage.TITLE, "Prompt-DAS demo: generated source -> target domains").config(), ctx.spark());
      String summary = String.format(Locale.ROOT, "%nPrompt-DAS demo: generated data, %d training slices per "
          + "domain and %d target test slices of %dx%d px, seed %d; tiny network, %d source-only steps, "
          + "then %d UDA / WDA steps from the source-only model (WDA: points on %.0f%% of the target "
          + "instances), 2 workers; %.0f s.%n%n%s", ctx.get(SLICES), ctx.get(TEST_SLICES), ctx.get(SIZE),
          ctx.get(SIZE), ctx.get(SEED), ctx.get(SOURCE_STEPS), ctx.get(ADAPT_STEPS),
          100 * ctx.get(POINT_FRACTION), (System.nanoTime() - t0) / 1e9,
          SweepStage.table(readResults(files, new Path(dir, "sweep/results.json"))));
      files.write(new Path(dir, "summary.txt"), summary.getBytes(StandardCharsets.UTF_8));
      output.commit();
      System.out.println(summary);
      System.out.println("Report: " + new Path(output.target(), "sweep/report.html"));
    }
  }

  private static List<CellResult> readResults(HadoopFiles files, Path p) {
    try {
      return List.of(new ObjectMapper().readValue(files.read(p), CellResult[].class));
    } catch (IOException e) {
      throw new UncheckedIOException(p + ": unreadable", e);
    }
  }
}

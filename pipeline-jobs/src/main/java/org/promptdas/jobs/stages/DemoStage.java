package org.promptdas.jobs.stages;

import com.typesafe.config.Config;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.config.Param;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.report.CellResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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

  @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default demo-out).")
  String out;

  @Override
  protected String stage() {
    return "demo";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(OUT, SLICES, TEST_SLICES, SIZE, SEED, SOURCE_STEPS, ADAPT_STEPS, LOCAL_STEPS,
        POINT_FRACTION, TEST_PROMPTS);
  }

  @Override
  protected void addOptionOverrides(List<String> o) {
    addIf(o, "demo.out", out);
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
      Config c = with(ctx.config(), "overwrite", false, "synth.width", ctx.get(SIZE), "synth.height",
          ctx.get(SIZE), "train.network", "tiny", "train.partitions", 2, "train.local-steps",
          ctx.get(LOCAL_STEPS), "train.seed", ctx.get(SEED), "tile.crop", 64, "tile.stride", 32,
          "infer.stride", 32, "infer.batch", 32);
      new SynthStage().runWith(with(c, "synth.out", dir + "/data", "synth.slices", ctx.get(SLICES),
          "synth.seed", ctx.get(SEED)), ctx.spark());
      new SynthStage().runWith(with(c, "synth.out", dir + "/data-test", "synth.slices", ctx.get(TEST_SLICES),
          "synth.seed", ctx.get(SEED) + 1, "synth.domains", List.of("target")), ctx.spark());
      new TileStage().runWith(with(c, "tile.images", dir + "/data/source/img", "tile.labels",
          dir + "/data/source/lab", "tile.volume", "source", "tile.out", dir + "/crops/source"), ctx.spark());
      new PointsStage().runWith(with(c, "points.labels", dir + "/data/target/lab", "points.fraction",
          ctx.get(POINT_FRACTION), "points.volume", "target", "points.out", dir + "/points"), ctx.spark());
      new TileStage().runWith(with(c, "tile.images", dir + "/data/target/img", "tile.points",
          dir + "/points", "tile.volume", "target", "tile.out", dir + "/crops/target"), ctx.spark());
      Config train = with(c, "train.source", dir + "/crops/source", "train.target", dir + "/crops/target");
      new TrainStage().runWith(with(train, "train.mode", "source-only", "train.steps", ctx.get(SOURCE_STEPS),
          "train.out", dir + "/runs/source-only"), ctx.spark());
      for (String mode : List.of("uda", "wda")) {
        new TrainStage().runWith(with(train, "train.mode", mode, "train.steps", ctx.get(ADAPT_STEPS),
            "train.init", dir + "/runs/source-only/model.pdas", "train.out", dir + "/runs/" + mode), ctx.spark());
      }
      List<String> models = List.of("source-only", "uda", "wda").stream()
          .map(m -> m + "=" + dir + "/runs/" + m + "/model.pdas").toList();
      new SweepStage().runWith(with(c, "sweep.models", models, "sweep.datasets",
          List.of("target-test=" + dir + "/data-test/target/img|" + dir + "/data-test/target/lab"),
          "sweep.prompt-fractions", List.of(0.0, ctx.get(TEST_PROMPTS)), "sweep.out", dir + "/sweep",
          "sweep.title", "Prompt-DAS demo: generated source -> target domains"), ctx.spark());
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

package org.promptdas.jobs.stages;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.promptdas.core.baseline.IntensityBaseline;
import org.promptdas.core.config.Param;
import org.promptdas.core.io.PngWriter;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.inputs.SliceRef;
import org.promptdas.jobs.inputs.SliceSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code demo}: the whole pipeline on generated data in local mode, as the README's first command.
 * Until the network lands it runs synth (two domains) -> tile -> a training-free intensity baseline
 * -> evaluate, and prints the comparison table; everything lands in one folder, atomically.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the pipeline end to end on generated data and print the results table.")
public final class DemoStage extends StageCommand {
  public static final Param<String> OUT = Param.required("prompt-das.demo.out", "output folder");
  public static final Param<Integer> SLICES = Param.integer("prompt-das.demo.slices",
      "slices per domain", 1, 10_000);
  public static final Param<Integer> SIZE = Param.integer("prompt-das.demo.size", "slice size in px", 64, 8192);
  public static final Param<Long> SEED = Param.longValue("prompt-das.demo.seed", "seed");

  @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default demo-out).")
  String out;

  @Override
  protected String stage() {
    return "demo";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(OUT, SLICES, SIZE, SEED);
  }

  @Override
  protected void addOptionOverrides(List<String> o) {
    addIf(o, "demo.out", out);
  }

  @Override
  protected void validate(Context ctx) {
    AtomicOutput.check(ctx.files(), ctx.files().qualify(ctx.get(OUT)), ctx.overwrite());
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    try (AtomicOutput output = AtomicOutput.begin(files, files.qualify(ctx.get(OUT)), ctx.overwrite())) {
      String dir = output.temp().toString();
      Config c = ctx.config()
          .withValue("prompt-das.synth.out", ConfigValueFactory.fromAnyRef(dir + "/data"))
          .withValue("prompt-das.synth.slices", ConfigValueFactory.fromAnyRef(ctx.get(SLICES)))
          .withValue("prompt-das.synth.width", ConfigValueFactory.fromAnyRef(ctx.get(SIZE)))
          .withValue("prompt-das.synth.height", ConfigValueFactory.fromAnyRef(ctx.get(SIZE)))
          .withValue("prompt-das.synth.seed", ConfigValueFactory.fromAnyRef(ctx.get(SEED)));
      new SynthStage().runWith(c, ctx.spark());
      List<String[]> table = new ArrayList<>();
      for (String domain : List.of("source", "target")) {
        String data = dir + "/data/" + domain;
        new TileStage().runWith(c
            .withValue("prompt-das.tile.images", ConfigValueFactory.fromAnyRef(data + "/img"))
            .withValue("prompt-das.tile.labels", ConfigValueFactory.fromAnyRef(data + "/lab"))
            .withValue("prompt-das.tile.volume", ConfigValueFactory.fromAnyRef(domain))
            .withValue("prompt-das.tile.out", ConfigValueFactory.fromAnyRef(dir + "/crops/" + domain)),
            ctx.spark());
        predictBaseline(ctx, data + "/img", dir + "/pred/baseline/" + domain);
        String eval = dir + "/eval/baseline/" + domain;
        new EvaluateStage().runWith(c
            .withValue("prompt-das.evaluate.pred", ConfigValueFactory.fromAnyRef(dir + "/pred/baseline/" + domain))
            .withValue("prompt-das.evaluate.gt", ConfigValueFactory.fromAnyRef(data + "/lab"))
            .withValue("prompt-das.evaluate.images", ConfigValueFactory.fromAnyRef(data + "/img"))
            .withValue("prompt-das.evaluate.out", ConfigValueFactory.fromAnyRef(eval)),
            ctx.spark());
        table.add(row("intensity baseline (no training)", domain, files, eval));
      }
      String summary = render(table, ctx);
      files.write(new Path(dir, "summary.txt"), summary.getBytes(StandardCharsets.UTF_8));
      output.commit();
      System.out.println(summary);
      System.out.println("Results, overlays and crops: " + output.target());
    }
  }

  /** The training-free baseline on every slice of a folder, one task per slice. */
  private static void predictBaseline(Context ctx, String images, String out) {
    HadoopFiles files = ctx.files();
    List<SliceRef> slices = SliceSet.resolve(files, images, null).slices();
    new JavaSparkContext(ctx.spark().sparkContext()).parallelize(slices, slices.size()).foreach(s ->
        files.write(new Path(out + "/" + s.name()),
            PngWriter.mask(IntensityBaseline.predict(SliceSet.read(files, s)))));
  }

  private static String[] row(String model, String domain, HadoopFiles files, String evalDir) {
    try {
      var node = new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(files.read(new Path(evalDir, "metrics.json"))).get("mean");
      return new String[] {model, domain, pct(node.get("dice")), pct(node.get("aji")), pct(node.get("pq"))};
    } catch (java.io.IOException e) {
      throw new IllegalStateException(evalDir + "/metrics.json cannot be parsed", e);
    }
  }

  private static String pct(com.fasterxml.jackson.databind.JsonNode v) {
    return v == null || v.isNull() ? "-" : String.format(Locale.ROOT, "%.1f", 100 * v.asDouble());
  }

  private static String render(List<String[]> rows, Context ctx) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "%nPrompt-DAS demo: synthetic data, %d slices per domain, %dx%d px, seed %d%n%n",
        ctx.get(SLICES), ctx.get(SIZE), ctx.get(SIZE), ctx.get(SEED)));
    String fmt = "%-34s %-8s %7s %7s %7s%n";
    s.append(String.format(Locale.ROOT, fmt, "model", "domain", "Dice", "AJI", "PQ"));
    for (String[] r : rows) {
      s.append(String.format(Locale.ROOT, fmt, (Object[]) r));
    }
    return s.toString();
  }
}

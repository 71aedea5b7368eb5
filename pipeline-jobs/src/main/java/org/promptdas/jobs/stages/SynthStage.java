package org.promptdas.jobs.stages;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.promptdas.core.config.Param;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;
import picocli.CommandLine.Command;

/**
 * {@code synth}: generated EM slices of the two synthetic domains with exact labels, one Spark task
 * per slice: {@code OUT/<domain>/img/<domain>_NNNN.png} (8-bit) and {@code .../lab/...} (16-bit
 * instance ids).
 */
@Command(name = "synth", mixinStandardHelpOptions = true,
    description = "Generate synthetic source/target EM slices with exact mitochondria labels.")
public final class SynthStage extends StageCommand {
  public static final Param<String> OUT = Param.required("prompt-das.synth.out", "output folder");
  public static final Param<List<String>> DOMAINS = Param.strings("prompt-das.synth.domains",
      "domain presets to generate", true);
  public static final Param<Integer> SLICES = Param.integer("prompt-das.synth.slices",
      "slices per domain", 1, 1_000_000);
  public static final Param<Integer> WIDTH = Param.integer("prompt-das.synth.width", "slice width", 16, 65536);
  public static final Param<Integer> HEIGHT = Param.integer("prompt-das.synth.height", "slice height", 16, 65536);
  public static final Param<Long> SEED = Param.longValue("prompt-das.synth.seed", "generator seed");

  @Override
  protected String stage() {
    return "synth";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(OUT, DOMAINS, SLICES, WIDTH, HEIGHT, SEED);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(OUT, SLICES);
  }

  @Override
  protected void validate(Context ctx) {
    for (String d : ctx.get(DOMAINS)) {
      try {
        Domain.named(d);
      } catch (IllegalArgumentException e) {
        throw new org.promptdas.core.PromptDasException.BadConfig(DOMAINS.path() + ": " + e.getMessage());
      }
    }
    AtomicOutput.check(ctx.files(), ctx.files().qualify(ctx.get(OUT)), ctx.overwrite());
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    try (AtomicOutput out = AtomicOutput.begin(files, files.qualify(ctx.get(OUT)), ctx.overwrite())) {
      generate(ctx, out.temp().toString());
      out.commit();
      log.info("synth: {} slices per domain {} -> {}", ctx.get(SLICES), ctx.get(DOMAINS), out.target());
    }
  }

  private void generate(Context ctx, String dir) {
    List<String[]> tasks = new ArrayList<>();
    for (String domain : ctx.get(DOMAINS)) {
      for (int i = 0; i < ctx.get(SLICES); i++) {
        tasks.add(new String[] {domain, Integer.toString(i)});
      }
    }
    int w = ctx.get(WIDTH);
    int h = ctx.get(HEIGHT);
    long seed = ctx.get(SEED);
    HadoopFiles files = ctx.files();
    new JavaSparkContext(ctx.spark().sparkContext()).parallelize(tasks, tasks.size())
        .foreach(t -> {
          Domain domain = Domain.named(t[0]);
          int i = Integer.parseInt(t[1]);
          SynthEm.Sample s = SynthEm.generate(domain, w, h, sliceSeed(seed, domain.name(), i));
          String name = String.format("%s_%04d.png", domain.name(), i);
          files.write(new Path(dir + "/" + domain.name() + "/img/" + name), PngWriter.grey8(s.image()));
          files.write(new Path(dir + "/" + domain.name() + "/lab/" + name), PngWriter.grey16(s.labels()));
        });
  }

  /** The seed of slice {@code i} of a domain: independent of which other domains are generated. */
  static long sliceSeed(long seed, String domain, int i) {
    return seed * 1_000_003L + domain.hashCode() * 7_919L + i;
  }
}

package org.promptdas.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.promptdas.core.config.ConfigLoader;
import org.promptdas.core.config.Param;
import org.promptdas.jobs.stages.DemoStage;
import org.promptdas.jobs.stages.EvaluateStage;
import org.promptdas.jobs.stages.InferStage;
import org.promptdas.jobs.stages.PointsStage;
import org.promptdas.jobs.stages.SweepStage;
import org.promptdas.jobs.stages.SynthStage;
import org.promptdas.jobs.stages.TileStage;
import org.promptdas.jobs.stages.TrainStage;
import picocli.CommandLine.Command;

/**
 * {@code config-doc}: {@code docs/configuration.md}, rendered from every stage's parameters (key,
 * default from the bundled {@code application.conf}, what a valid value is, what it does), so the
 * reference can never drift from the code ({@code ConfigurationDocTest} fails when the committed
 * file is stale: regenerate it with {@code bin/prompt-das config-doc > docs/configuration.md}).
 */
@Command(name = "config-doc", mixinStandardHelpOptions = true,
    description = "Print the configuration reference (docs/configuration.md) from the parameters.")
public final class ConfigurationDoc implements Callable<Integer> {

  /** Every stage in command order. */
  static List<StageCommand> stages() {
    return List.of(new SynthStage(), new TileStage(), new PointsStage(), new TrainStage(),
        new InferStage(), new EvaluateStage(), new SweepStage(), new DemoStage());
  }

  /** The reference as markdown. */
  public static String render() {
    Config defaults = ConfigLoader.defaults();
    StringBuilder b = new StringBuilder();
    b.append("# Configuration reference\n\n")
        .append("Generated from the stages' parameters by `bin/prompt-das config-doc` (a test fails when this\n")
        .append("file is stale). Every key lives under `prompt-das.`; set one with `--set KEY=VALUE` (the\n")
        .append("prefix is optional) or in a `--config FILE`. Layering, later wins: the bundled\n")
        .append("`conf/application.conf` < `--config` files in order < `--set` < a command's own options.\n")
        .append("Unknown keys are refused with a suggestion; every value is checked before any work starts.\n")
        .append("Keys outside the stages: `spark.master`, `spark.app-name`, `spark.conf { ... }` (extra\n")
        .append("Spark settings) and `overwrite` (see `conf/application.conf`).\n");
    Set<String> done = new LinkedHashSet<>();
    section(b, "every stage", List.of(StageCommand.OVERWRITE, StageCommand.MAX_SLICE_MEGAPIXELS), defaults, done);
    for (StageCommand s : stages()) {
      section(b, s.stage(), s.params(), defaults, done);
    }
    return b.toString();
  }

  private static void section(StringBuilder b, String title, List<Param<?>> params, Config defaults, Set<String> done) {
    List<Param<?>> fresh = new ArrayList<>();
    for (Param<?> p : params) {
      if (done.add(p.path())) {
        fresh.add(p);
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    b.append("\n## ").append(title).append("\n\n| key | default | valid | meaning |\n|---|---|---|---|\n");
    for (Param<?> p : fresh) {
      String key = p.path().substring(ConfigLoader.ROOT.length() + 1);
      String def = p.rule().startsWith("set") || !defaults.hasPath(p.path()) ? "(required)"
          : "`" + defaults.getValue(p.path()).render(ConfigRenderOptions.concise()).replace("|", "\\|") + "`";
      b.append("| `").append(key).append("` | ").append(def).append(" | ")
          .append(p.rule().replace("|", "\\|")).append(" | ").append(p.doc().replace("|", "\\|")).append(" |\n");
    }
  }

  @Override
  public Integer call() {
    System.out.print(render());
    return 0;
  }
}

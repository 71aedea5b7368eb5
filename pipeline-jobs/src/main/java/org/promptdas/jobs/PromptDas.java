package org.promptdas.jobs;

import org.apache.spark.SparkException;
import org.promptdas.core.PromptDasException;
import org.promptdas.jobs.bench.BenchInfer;
import org.promptdas.jobs.bench.BenchMetrics;
import org.promptdas.jobs.bench.BenchModel;
import org.promptdas.jobs.bench.BenchTrain;
import org.promptdas.jobs.model.ExportModel;
import org.promptdas.jobs.model.ImportWeights;
import org.promptdas.jobs.model.PredictCrop;
import org.promptdas.jobs.stages.DemoStage;
import org.promptdas.jobs.stages.EvaluateStage;
import org.promptdas.jobs.stages.InferStage;
import org.promptdas.jobs.stages.PointsStage;
import org.promptdas.jobs.stages.SweepStage;
import org.promptdas.jobs.stages.SynthStage;
import org.promptdas.jobs.stages.TileStage;
import org.promptdas.jobs.stages.TrainStage;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code prompt-das} command line: one entry point for every stage, locally
 * ({@code bin/prompt-das <command>}) and under {@code spark-submit} (the same main class).
 * Exit codes: 0 success, 2 bad configuration or input (nothing written), 1 any other failure.
 */
@Command(name = "prompt-das", mixinStandardHelpOptions = true, version = "prompt-das 0.1.0",
    description = "Prompt-DAS: domain-adaptive mitochondria segmentation in EM, on Spark.",
    subcommands = {SynthStage.class, TileStage.class, PointsStage.class, TrainStage.class, InferStage.class,
        EvaluateStage.class, SweepStage.class, DemoStage.class,
        BenchInfer.class, BenchMetrics.class, BenchModel.class, BenchTrain.class, PredictCrop.class, ImportWeights.class,
        ExportModel.class, ConfigurationDoc.class})
public final class PromptDas {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs a command line and returns the exit code (used by tests). */
  public static int run(String... args) {
    CommandLine cl = commandLine();
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      PromptDasException user = userError(e);
      if (user != null) {
        cmd.getErr().println("prompt-das " + cmd.getCommandName() + ": error: " + user.getMessage());
        if (cmd.getCommand() instanceof StageCommand s && s.verbose()) {
          e.printStackTrace(cmd.getErr());
        }
        return 2;
      }
      cmd.getErr().println("prompt-das " + cmd.getCommandName() + ": internal error: " + e);
      e.printStackTrace(cmd.getErr());
      return 1;
    });
    return cl.execute(args);
  }

  /** The command line model: every command, each stage with the options its parameters declare. */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new PromptDas());
    cl.getSubcommands().values().forEach(sub -> {
      if (sub.getCommand() instanceof StageCommand stage) {
        stage.declareOptions(sub.getCommandSpec());
      }
    });
    return cl;
  }

  /**
   * The project's own exception behind {@code e}, also when Spark wrapped it in a task failure;
   * a full disk anywhere below (Spark's writers included) is one too.
   */
  static PromptDasException userError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PromptDasException p) {
        return p;
      }
      if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
        return new PromptDasException("no space left on device: " + t.getMessage().split("\n")[0].trim());
      }
      if (t instanceof SparkException && t.getCause() == null && t.getMessage() != null) {
        // A task failure carries the executor's exception only as text.
        String m = t.getMessage();
        int i = m.indexOf("PromptDasException");
        if (i >= 0) {
          String rest = m.substring(m.indexOf(':', i) + 1).trim();
          return new PromptDasException(rest.split("\n\tat ")[0].trim());
        }
      }
    }
    return null;
  }
}

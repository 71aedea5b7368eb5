package org.promptdas.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.promptdas.core.config.ConfigLoader;
import org.promptdas.core.config.Param;
import org.promptdas.core.config.Settings;
import org.promptdas.jobs.fs.HadoopConf;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.fs.Overlaps;
import org.promptdas.jobs.spark.Sparks;
import org.promptdas.model.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The shape every stage shares: configuration (defaults &lt; --config files &lt; --set overrides &lt;
 * the stage's own options), validation of every parameter and then of every input before the first
 * Spark job, the Spark session, and the run. Subclasses declare their parameters, map their
 * options to keys, check their inputs ({@link #validate}) and do the work ({@link #execute}).
 */
public abstract class StageCommand implements Callable<Integer> {
  protected final Logger log = LoggerFactory.getLogger(getClass());

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "HOCON configuration file(s) layered over the defaults (later files win).")
  List<Path> configFiles = new ArrayList<>();

  @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
      description = "Override one key (the 'prompt-das.' prefix is optional), e.g. tile.crop=256.")
  List<String> sets = new ArrayList<>();

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master when not under spark-submit (default local[*]).")
  String master;

  @Option(names = "--overwrite", description = "Replace an existing output (at commit, not before).")
  boolean overwrite;

  @Option(names = "--verbose", description = "Show Spark's reports of failed tasks and the stack trace of an error.")
  boolean verbose;

  /** Spark's loggers that report each failed task attempt with a stack trace (off unless --verbose). */
  static final List<String> TASK_FAILURE_LOGGERS = List.of("org.apache.spark.executor.Executor",
      "org.apache.spark.scheduler.TaskSetManager", "org.apache.spark.sql.execution.datasources.FileFormatWriter");

  /** Whether --verbose was given. */
  public boolean verbose() {
    return verbose;
  }

  /** The most pixels a slice may have, for every stage that reads slices. */
  public static final Param<Double> MAX_SLICE_MEGAPIXELS = Param.number("prompt-das.limits.max-slice-megapixels",
      "the most megapixels a slice's header may claim (checked before decoding); 0: a 32nd of the "
      + "reading JVM's heap in bytes", 0, 1e9);

  /** Whether a stage may replace its existing output (the --overwrite option). */
  public static final Param<Boolean> OVERWRITE = Param.bool("prompt-das.overwrite",
      "replace an existing output; the earlier one stays until the new one is complete");

  /** The stage's name, as on the command line. */
  protected abstract String stage();

  /** Every parameter the stage reads (validated before anything runs). */
  protected abstract List<Param<?>> params();

  /**
   * The parameters this stage offers as options, {@code --NAME} for a key ending in {@code NAME}:
   * their help text and defaults come from the parameter and {@code application.conf}, their
   * values are validated with the rest of the configuration.
   */
  protected List<Param<?>> options() {
    return List.of();
  }

  /** The values given to {@link #options} on the command line, by key. */
  private final Map<String, String> optionValues = new LinkedHashMap<>();

  /** Adds {@link #options} to this stage's command-line model (before parsing). */
  void declareOptions(CommandSpec spec) {
    Config defaults = ConfigLoader.defaults();
    for (Param<?> p : options()) {
      String name = p.path().substring(p.path().lastIndexOf('.') + 1);
      boolean flag = defaults.hasPath(p.path()) && defaults.getValue(p.path()).valueType() == ConfigValueType.BOOLEAN;
      String def = !defaults.hasPath(p.path()) || p.rule().startsWith("set") ? "required"
          : "default " + defaults.getValue(p.path()).render();
      OptionSpec.Builder b = OptionSpec.builder("--" + name).paramLabel(name.toUpperCase(java.util.Locale.ROOT))
          .type(String.class).description(p.doc() + " (" + def + ")")
          .setter(new ISetter() {
            @Override
            public <T> T set(T value) {
              if (value != null) {
                optionValues.put(p.path(), (String) value);
              }
              return null;
            }
          });
      if (flag) {
        b.arity("0..1").fallbackValue("true");
      }
      spec.addOption(b.build());
    }
  }

  /** The value given to the option of {@code p}, or null. */
  protected String option(Param<?> p) {
    return optionValues.get(p.path());
  }

  /** Adds KEY=VALUE overrides the stage's options imply beyond their own keys (none by default). */
  protected void addOptionOverrides(List<String> overrides) {}

  /**
   * The paths this run reads (folders, files, {@code FILE.h5#dataset}; blank for unset ones), for
   * the check that no output overlaps an input ({@link Overlaps}).
   */
  protected List<String> inputPaths(Context ctx) {
    return List.of();
  }

  /** The folders or files this run writes, for the same check. */
  protected List<String> outputPaths(Context ctx) {
    return List.of();
  }

  /** Checks inputs and outputs (existence, pairing, sizes) without writing anything. */
  protected abstract void validate(Context ctx);

  /** Runs the stage's Spark jobs and commits its output. */
  protected abstract void execute(Context ctx);

  /** What a running stage works with. */
  public record Context(Config config, Settings settings, SparkSession spark, HadoopFiles files) {
    public <T> T get(Param<T> p) {
      return settings.get(p);
    }

    public boolean overwrite() {
      return settings.get(OVERWRITE);
    }
  }

  /** Loads and validates the configuration (no Spark, no I/O): usable by tests and dry runs. */
  public Settings settings(Config config) {
    List<Param<?>> all = new ArrayList<>(params());
    all.add(MAX_SLICE_MEGAPIXELS);
    all.add(OVERWRITE);
    return Settings.of(config, all);
  }

  public Config config() {
    List<String> overrides = new ArrayList<>(sets);
    if (master != null) {
      overrides.add("spark.master=\"" + master + "\"");
    }
    if (overwrite) {
      overrides.add("overwrite=true");
    }
    Config defaults = ConfigLoader.defaults();
    optionValues.forEach((key, value) -> overrides.add(key + "=" + (defaults.hasPath(key)
        && defaults.getValue(key).valueType() != ConfigValueType.STRING ? value : quoted(value))));
    addOptionOverrides(overrides);
    return ConfigLoader.load(configFiles, overrides);
  }

  @Override
  public Integer call() {
    if (verbose) {
      TASK_FAILURE_LOGGERS.forEach(l -> org.apache.logging.log4j.core.config.Configurator.setLevel(l,
          org.apache.logging.log4j.Level.WARN));
    }
    Config config = config();
    settings(config); // every parameter is checked before Spark starts
    Engine.configure(); // and the engine's JVM switches (-Dpromptdas.*) on this JVM
    runWith(config, Sparks.session(config, stage()));
    return 0;
  }

  /**
   * Validates and runs this stage with a given configuration in an existing session (how
   * {@code demo} and {@code sweep} chain stages).
   */
  public void runWith(Config config, SparkSession spark) {
    Settings settings = settings(config);
    HadoopFiles files = new HadoopFiles(new HadoopConf(spark.sparkContext().hadoopConfiguration()),
        Math.round(settings.get(MAX_SLICE_MEGAPIXELS) * 1e6));
    Context ctx = new Context(config, settings, spark, files);
    long t0 = System.nanoTime();
    Overlaps.refuse(files, inputPaths(ctx), outputPaths(ctx));
    validate(ctx);
    execute(ctx);
    log.info("{} finished in {}", stage(), String.format("%.1fs", (System.nanoTime() - t0) / 1e9));
  }

  /** Quotes a command-line value as a HOCON string. */
  private static String quoted(String v) {
    return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}

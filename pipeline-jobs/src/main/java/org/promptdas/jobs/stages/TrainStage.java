package org.promptdas.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.config.Param;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.fs.ResumableOutput;
import org.promptdas.jobs.spark.Sparks;
import org.promptdas.jobs.training.CropRecord;
import org.promptdas.jobs.training.Round;
import org.promptdas.jobs.training.RoundRecord;
import org.promptdas.jobs.training.WorkerResult;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Averaging;
import org.promptdas.model.train.Checkpoint;
import org.promptdas.model.train.Execution;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.StudentGraph;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.TrainingState;
import picocli.CommandLine.Command;
import scala.Tuple2;

/**
 * {@code train}: data-parallel Prompt-DAS training in synchronous rounds. The crops of the source
 * (and target) tile datasets are dealt to P workers (the i-th crop in key order to worker i mod P)
 * and cached. Each round the driver broadcasts the state (student, teacher, AdamW moments, step)
 * as checkpoint bytes; every worker runs K local steps on its crops ({@link LocalRound});
 * the driver sums the workers' parameters and moments in partition order, divides, moves the
 * EMA teacher from the averaged student ({@link Averaging}) and logs the round. A failed task is
 * re-run by Spark from the same broadcast and repeats the same steps.
 *
 * <p>Writes into OUT: {@code checkpoints/step-N.ckpt} every N rounds and at the end (each atomic),
 * {@code history.jsonl} (rewritten at every checkpoint), {@code _train.json} (what was asked), and
 * at the end {@code history.parquet/} and {@code model.pdas} (the teacher when adapting, else the
 * student), which marks the run complete. {@code --resume} continues from the newest checkpoint,
 * refusing one of another network or training configuration, and ends with the same parameters as
 * an uninterrupted run.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train Prompt-DAS on Spark (parameter averaging, EMA teacher).")
public final class TrainStage extends StageCommand {
  public static final Param<String> SOURCE = Param.required("prompt-das.train.source",
      "labelled source crops (a tile dataset)");
  public static final Param<String> TARGET = Param.string("prompt-das.train.target",
      "target crops (a tile dataset; with points for WDA, labels for oracle), empty for source-only");
  public static final Param<String> OUT = Param.required("prompt-das.train.out", "output folder");
  public static final Param<String> MODE = Param.oneOf("prompt-das.train.mode", "training mode",
      List.of("source-only", "uda", "wda", "oracle"));
  public static final Param<String> NETWORK = Param.oneOf("prompt-das.train.network",
      "network preset", NetworkConfig.PRESETS);
  public static final Param<String> INIT = Param.string("prompt-das.train.init",
      "model file to start from, or empty for a random initialisation from the seed");
  public static final Param<Integer> STEPS = Param.integer("prompt-das.train.steps",
      "optimisation steps per worker (the length of the learning-rate schedule)", 1, 100_000_000);
  public static final Param<Integer> LOCAL_STEPS = Param.integer("prompt-das.train.local-steps",
      "steps each worker runs between two averagings (K); must divide steps", 1, 100_000_000);
  public static final Param<Integer> PARTITIONS = Param.integer("prompt-das.train.partitions",
      "data-parallel workers (0: Spark's default parallelism)", 0, 100_000);
  public static final Param<Integer> BATCH = Param.integer("prompt-das.train.batch",
      "source crops per worker step (as many target crops join them)", 1, 4096);
  public static final Param<Double> LEARNING_RATE = Param.number("prompt-das.train.learning-rate",
      "initial learning rate (0: the network's preset)", 0, 1);
  public static final Param<Integer> WARMUP = Param.integer("prompt-das.train.warmup-steps",
      "steps of linear learning-rate warm-up (-1: the network's preset)", -1, 100_000_000);
  public static final Param<Double> PROMPT_FREE_SHARE = Param.number("prompt-das.train.prompt-free-share",
      "share of crops trained without prompts, whatever they hold (the rest get 1..n of their points)", 0, 1);
  public static final Param<Integer> PROMPT_FREE_STEPS = Param.integer("prompt-das.train.prompt-free-steps",
      "steps at the start in which no crop is prompted", 0, 100_000_000);
  public static final Param<String> BALANCED = Param.oneOf("prompt-das.train.balanced-pseudo-labels",
      "weigh the target's confident foreground and background pixels equally (auto: the network's preset)",
      List.of("auto", "true", "false"));
  public static final Param<String> STRONG_VIEW = Param.oneOf("prompt-das.train.strong-target-view",
      "the student sees target crops in a strong photometric view of what the teacher labelled (auto: the "
      + "network's preset)", List.of("auto", "true", "false"));
  public static final Param<Double> PSEUDO_FOREGROUND_SHARE = Param.number("prompt-das.train.pseudo-foreground-share",
      "with balanced pseudo-labels, the share of the target's weight on its confident foreground pixels "
      + "(0.5: as much as on its background; 0: the foreground share of the step's source labels)", 0, 0.99);
  public static final Param<Double> STRONG_SOURCE_SHARE = Param.number("prompt-das.train.strong-source-share",
      "share of source crops the student sees in the strong photometric view", 0, 1);
  public static final Param<Boolean> AVERAGED_MODEL = Param.bool("prompt-das.train.averaged-model",
      "source-only and oracle runs keep an EMA of the student (decay ema-alpha) and save it as the model "
      + "(UDA and WDA always save their EMA teacher)");
  public static final Param<Double> EMA_ALPHA = Param.number("prompt-das.train.ema-alpha",
      "the EMA's decay cap: the teacher (and an averaged model) moves by min(1 - 1/(step + 1), alpha) "
      + "per step (paper: 0.99)", 0, 0.9999);
  public static final Param<Double> PEAK_THRESHOLD = Param.number("prompt-das.train.peak-threshold",
      "density at or above which a local maximum of the teacher's density map is a detected point "
      + "(authors: 125/255)", 0.001, 1);
  public static final Param<Double> FOREGROUND_CONFIDENCE = Param.number("prompt-das.train.foreground-confidence",
      "teacher probability above which a target pixel is a foreground pseudo-label (paper: 0.9)", 0.5, 1);
  public static final Param<Double> BACKGROUND_CONFIDENCE = Param.number("prompt-das.train.background-confidence",
      "teacher probability below which a target pixel is a background pseudo-label (paper: 0.1)", 0, 0.5);
  public static final Param<Long> SEED = Param.longValue("prompt-das.train.seed", "seed of every random choice");
  public static final Param<Integer> CHECKPOINT_EVERY = Param.integer("prompt-das.train.checkpoint-every",
      "rounds between checkpoints", 1, 100_000_000);
  public static final Param<Boolean> DET = Param.bool("prompt-das.train.detection-pseudo-labels",
      "supervise the target density map with the teacher's peaks (Table 2)");
  public static final Param<Boolean> SEG = Param.bool("prompt-das.train.segmentation-pseudo-labels",
      "supervise confident target pixels with the teacher's mask (Table 2)");
  public static final Param<Boolean> PROMPTS = Param.bool("prompt-das.train.training-prompts",
      "prompt target crops with sparse and detected points (Table 2)");
  public static final Param<Boolean> PCL = Param.bool("prompt-das.train.contrastive",
      "prompt-guided contrastive loss (Table 2)");
  public static final Param<String> RECOMPUTE = Param.oneOf("prompt-das.train.recompute-encoder",
      "recompute each encoder block's activations during the backward pass: a step keeps only the "
      + "tokens between blocks (less memory, one more encoder forward pass); same results. auto: "
      + "for encoders of " + StudentGraph.RECOMPUTE_MIN_TOKENS + " tokens or more (the paper network), "
      + "where it is faster",
      List.of("auto", "true", "false"));
  public static final Param<Integer> STEP_THREADS = Param.integer("prompt-das.train.step-threads",
      "threads each worker's steps use: the batch is split into that many shards (at most; a divisor "
      + "of the batch) that run side by side with single-threaded ops, faster than spreading each "
      + "small op over the cores; results equal up to float rounding, reproducible for a given count. "
      + "0: auto, the cores a worker has (local mode: the driver's cores over the workers; on a "
      + "cluster: spark.task.cpus), 1 for encoders of " + StudentGraph.RECOMPUTE_MIN_TOKENS
      + " tokens or more (the paper network), whose large products already use the cores", 0, 1024);
  public static final Param<Integer> KEEP_CHECKPOINTS = Param.integer("prompt-das.train.keep-checkpoints",
      "newest checkpoints kept; older ones are deleted as new ones are written", 1, 1_000_000);
  public static final Param<List<Double>> PINNED_CHECKPOINTS = Param.numbers("prompt-das.train.pinned-checkpoints",
      "steps whose checkpoints are always kept", 0, 1e12, false);
  public static final Param<Boolean> RESUME = Param.bool("prompt-das.train.resume",
      "continue from the newest checkpoint in the output folder");

  /** What validation found. */
  private TrainingState start;
  /** The output folder, the folder this run writes (a hidden sibling when replacing), and whether it replaces. */
  private Path output;
  private Path work;
  private boolean replacing;
  /** True when the run starts at its initial state (no checkpoint resumed). */
  private boolean fresh;
  private List<RoundRecord> history;
  private int partitions;
  /** How the workers run their steps. */
  private Execution execution;
  private boolean complete;

  @Override
  protected String stage() {
    return "train";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(SOURCE, TARGET, OUT, MODE, NETWORK, INIT, STEPS, LOCAL_STEPS, PARTITIONS, BATCH,
        LEARNING_RATE, WARMUP, PROMPT_FREE_SHARE, PROMPT_FREE_STEPS, BALANCED, STRONG_VIEW,
        PSEUDO_FOREGROUND_SHARE, STRONG_SOURCE_SHARE, AVERAGED_MODEL, EMA_ALPHA, PEAK_THRESHOLD,
        FOREGROUND_CONFIDENCE, BACKGROUND_CONFIDENCE, SEED, CHECKPOINT_EVERY, KEEP_CHECKPOINTS,
        PINNED_CHECKPOINTS, DET, SEG, PROMPTS, PCL, RECOMPUTE, STEP_THREADS, RESUME);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(SOURCE, TARGET, OUT, MODE, RESUME);
  }

  static Mode mode(String s) {
    return switch (s) {
      case "source-only" -> Mode.SOURCE_ONLY;
      case "uda" -> Mode.UDA;
      case "wda" -> Mode.WDA;
      default -> Mode.ORACLE;
    };
  }

  /** The training configuration the settings ask for. */
  public static TrainConfig trainConfig(Context ctx) {
    Mode m = mode(ctx.get(MODE));
    TrainConfig preset = TrainConfig.forNetwork(ctx.get(NETWORK), m, ctx.get(STEPS), ctx.get(SEED));
    double lr = ctx.get(LEARNING_RATE) > 0 ? ctx.get(LEARNING_RATE) : preset.learningRate();
    int warmup = ctx.get(WARMUP) >= 0 ? ctx.get(WARMUP) : preset.warmupSteps();
    return preset.with(ctx.get(DET), ctx.get(SEG), ctx.get(PROMPTS), ctx.get(PCL), ctx.get(BATCH), lr)
        .withWarmup(warmup).withPromptFree(ctx.get(PROMPT_FREE_SHARE), ctx.get(PROMPT_FREE_STEPS))
        .withTargetRecipe(flag(ctx.get(BALANCED), preset.balancedPseudoLabels()), ctx.get(PSEUDO_FOREGROUND_SHARE),
            flag(ctx.get(STRONG_VIEW), preset.strongTargetView()))
        .withConfidence(ctx.get(FOREGROUND_CONFIDENCE), ctx.get(BACKGROUND_CONFIDENCE))
        .withStrongSourceShare(ctx.get(STRONG_SOURCE_SHARE))
        .withAveraging(ctx.get(AVERAGED_MODEL), ctx.get(EMA_ALPHA))
        .withPeakThreshold(ctx.get(PEAK_THRESHOLD));
  }

  /** An auto/true/false setting: auto takes the preset's value. */
  private static boolean flag(String setting, boolean preset) {
    return setting.equals("auto") ? preset : Boolean.parseBoolean(setting);
  }

  @Override
  protected List<String> inputPaths(Context ctx) {
    return List.of(ctx.get(SOURCE), ctx.get(TARGET), ctx.get(INIT));
  }

  @Override
  protected List<String> outputPaths(Context ctx) {
    return List.of(ctx.get(OUT));
  }

  @Override
  protected void validate(Context ctx) {
    HadoopFiles files = ctx.files();
    TrainConfig cfg = trainConfig(ctx);
    NetworkConfig net = NetworkConfig.named(ctx.get(NETWORK));
    if (ctx.get(STEPS) % ctx.get(LOCAL_STEPS) != 0) {
      throw new BadConfig(LOCAL_STEPS.path() + " = " + ctx.get(LOCAL_STEPS) + " does not divide "
          + STEPS.path() + " = " + ctx.get(STEPS) + " (every round runs the same number of steps)");
    }
    if (cfg.usesTarget() && ctx.get(TARGET).isEmpty()) {
      throw new BadConfig(TARGET.path() + " is needed in mode " + ctx.get(MODE));
    }
    partitions = ctx.get(PARTITIONS) > 0 ? ctx.get(PARTITIONS)
        : ctx.spark().sparkContext().defaultParallelism();
    execution = new Execution(StudentGraph.recompute(ctx.get(RECOMPUTE), net),
        Engine.shardsFor(stepThreads(ctx, net), cfg.batch()));
    check(ctx, ctx.get(SOURCE), "source", true, false, net.imageSize());
    if (cfg.usesTarget()) {
      check(ctx, ctx.get(TARGET), "target", cfg.mode() == Mode.ORACLE, cfg.mode() == Mode.WDA, net.imageSize());
    }
    output = files.qualify(ctx.get(OUT));
    replacing = ctx.overwrite() && files.exists(output);
    work = replacing ? ResumableOutput.staging(output) : output;
    Path newest = newestCheckpoint(files, work);
    history = new ArrayList<>();
    if (ctx.get(RESUME) && newest != null) {
      start = Checkpoint.read(newest.toString(), files.read(newest), net);
      if (!start.training().equals(cfg)) {
        throw new BadConfig(newest + ": a checkpoint of another training configuration ("
            + start.training().toJson() + "); this run asks for " + cfg.toJson()
            + " (resume with the same settings, or use another output folder)");
      }
      Path asked = new Path(work, "_train.json");
      if (files.exists(asked)) {
        JsonNode before = files.readJson(asked);
        if (before.path("partitions").asInt() != partitions || before.path("local_steps").asInt() != ctx.get(LOCAL_STEPS)) {
          throw new BadConfig(output + ": was trained with " + before.path("partitions").asInt() + " workers x "
              + before.path("local_steps").asInt() + " local steps; resuming needs the same (asked: "
              + partitions + " x " + ctx.get(LOCAL_STEPS) + ")");
        }
        int shards = before.path("shards").asInt(1);
        if (shards != execution.shards()) {
          throw new BadConfig(output + ": was trained with " + shards + " shards per step; resuming needs "
              + "the same to continue exactly (asked: " + execution.shards() + "; set "
              + STEP_THREADS.path() + " = " + shards + ")");
        }
      }
      history = readHistory(files, new Path(work, "history.jsonl"), start.step() / ctx.get(LOCAL_STEPS));
      complete = start.step() == cfg.steps() && files.exists(new Path(work, "model.pdas"));
      log.info("train: resuming from {} at step {}", newest, start.step());
      return;
    }
    if (files.exists(work) && !replacing) {
      if (!ctx.get(RESUME)) {
        throw new BadConfig(output + ": holds an earlier run (use --resume to continue it, another "
            + "output folder, or --overwrite)");
      }
      // --resume of a run killed before its first checkpoint: start at step 0 in its folder
      List<String> foreign = files.listNames(work).stream().filter(n -> !OWN_FILES.contains(n)).toList();
      if (!foreign.isEmpty()) {
        throw new BadConfig(output + ": holds no checkpoint to resume, and files this stage did not "
            + "write (" + String.join(", ", foreign) + "); use another output folder, or --overwrite");
      }
      log.info("train: {} holds no checkpoint yet; starting at step 0", output);
    }
    Weights init = ctx.get(INIT).isEmpty() ? Weights.initialise(net, ctx.get(SEED))
        : ModelFile.fromBytes(ctx.get(INIT), files.read(files.qualify(ctx.get(INIT))), net).weights();
    start = TrainingState.initial(init, cfg);
    fresh = true;
  }

  /** What a run writes before its first checkpoint (a folder holding only these may be restarted). */
  private static final List<String> OWN_FILES = List.of("_train.json", "history.jsonl", "checkpoints");

  /** Checks a crop dataset's schema and contents (read-only jobs) and that P workers get crops. */
  private void check(Context ctx, String path, String role, boolean labels, boolean points, int window) {
    Path p = ctx.files().qualify(path);
    if (!ctx.files().exists(p)) {
      throw new BadInput(p + ": no such " + role + " crop dataset (make one with the tile stage)");
    }
    Dataset<Row> df = ctx.spark().read().parquet(p.toString());
    for (String col : List.of("volume", "slice", "y", "x", "h", "w", "image", "label", "points")) {
      if (!List.of(df.columns()).contains(col)) {
        throw new BadInput(p + ": not a tile dataset (no column '" + col + "')");
      }
    }
    // one pass over the dataset for the three counts and the smallest crop
    Row counts = df.agg(functions.count(functions.lit(1)),
        functions.sum(functions.when(df.col("label").isNull(), 1).otherwise(0)),
        functions.sum(functions.when(functions.size(df.col("points")).gt(0), 1).otherwise(0)),
        functions.min(functions.least(df.col("h"), df.col("w")))).first();
    long n = counts.getLong(0);
    long unlabelled = counts.isNullAt(1) ? 0 : counts.getLong(1);
    long withPoints = counts.isNullAt(2) ? 0 : counts.getLong(2);
    if (n < partitions) {
      throw new BadInput(p + ": " + n + " " + role + " crops for " + partitions
          + " workers (every worker needs one; set " + PARTITIONS.path() + " lower)");
    }
    if (labels && unlabelled > 0) {
      throw new BadInput(p + ": " + unlabelled + " of " + n + " " + role + " crops have no label "
          + "(tile them with --labels)");
    }
    if (points && withPoints == 0) {
      throw new BadInput(p + ": no crop carries points, which WDA needs (tile with --points from the "
          + "points stage, or train in mode uda)");
    }
    if (!counts.isNullAt(3) && counts.getInt(3) < window) {
      throw new BadInput(p + ": its smallest " + role + " crop is " + counts.getInt(3) + " px, the network's "
          + "window " + window + " px (tile with --crop " + window + " or more)");
    }
  }

  private static Path newestCheckpoint(HadoopFiles files, Path outDir) {
    Path dir = new Path(outDir, "checkpoints");
    if (!files.isDirectory(dir)) {
      return null;
    }
    List<Path> ckpts = files.list(dir, n -> n.matches("step-\\d+\\.ckpt"));
    return ckpts.stream().max((a, b) -> a.getName().compareTo(b.getName())).orElse(null);
  }

  /** The history rows of the rounds up to {@code rounds} (the resumed checkpoint's). */
  private static List<RoundRecord> readHistory(HadoopFiles files, Path p, long rounds) {
    if (!files.exists(p)) {
      return new ArrayList<>();
    }
    return new ArrayList<>(RoundRecord.parseLines(new String(files.read(p), StandardCharsets.UTF_8))
        .stream().filter(r -> r.round() <= rounds).toList());
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    if (complete) {
      log.info("train: {} is complete (step {}); nothing to do", work, start.step());
      commit(files);
      return;
    }
    if (fresh && replacing && files.exists(work)) {
      files.delete(work); // an interrupted replacement's own folder, started afresh
    }
    Path outDir = work;
    files.mkdirs(new Path(outDir, "checkpoints"));
    TrainConfig cfg = start.training();
    int k = ctx.get(LOCAL_STEPS);
    int rounds = cfg.steps() / k;
    files.writeAtomically(new Path(outDir, "_train.json"), trainJson(ctx, cfg, k));
    JavaSparkContext jsc = new JavaSparkContext(ctx.spark().sparkContext());
    JavaRDD<CropRecord> src = deal(ctx, ctx.get(SOURCE), true, false);
    JavaRDD<CropRecord> tgt = cfg.usesTarget()
        ? deal(ctx, ctx.get(TARGET), cfg.mode() == Mode.ORACLE, cfg.mode() == Mode.WDA) : null;
    TrainingState state = start;
    long t0 = System.nanoTime();
    int firstRound = (int) (state.step() / k) + 1;
    log.info("train: {} mode, {} workers x {} local steps per round, rounds {}..{}, encoder recomputed: {}, "
        + "shards per step: {}", ctx.get(MODE), partitions, k, firstRound, rounds, execution.recomputeEncoder(),
        execution.shards());
    for (int round = firstRound; round <= rounds; round++) {
      long r0 = System.nanoTime();
      double lr = cfg.learningRate(state.step());
      Round.Outcome outcome = Round.advance(jsc, src, tgt, state, k, execution);
      state = outcome.next();
      WorkerResult sum = outcome.workers();
      double seconds = (System.nanoTime() - r0) / 1e9;
      double[] l = sum.meanLosses();
      RoundRecord rec = new RoundRecord(round, state.step(), lr, l[0], l[1], l[2], l[3], sum.crops(),
          seconds, sum.crops() / seconds);
      history.add(rec);
      double eta = (System.nanoTime() - t0) / 1e9 / (round - firstRound + 1) * (rounds - round);
      log.info(String.format(Locale.ROOT, "train: round %d/%d step %d loss %.4f (seg %.4f det %.4f "
          + "pcl %.4f) lr %.2e, %.1f crops/s, round %.1fs, ETA %.0fs", round, rounds, state.step(),
          l[0], l[1], l[2], l[3], lr, rec.cropsPerSecond(), seconds, eta));
      if (round % ctx.get(CHECKPOINT_EVERY) == 0 || round == rounds) {
        files.writeAtomically(new Path(outDir, String.format("checkpoints/step-%09d.ckpt", state.step())),
            Checkpoint.toBytes(state));
        files.writeAtomically(new Path(outDir, "history.jsonl"),
            RoundRecord.jsonLines(history).getBytes(StandardCharsets.UTF_8));
        pruneCheckpoints(files, ctx);
      }
    }
    src.unpersist();
    if (tgt != null) {
      tgt.unpersist();
    }
    Sparks.replaceTable(ctx.spark(), files, new Path(outDir, "history.parquet"),
        history.stream().map(RoundRecord::toRow).toList(), RoundRecord.SCHEMA);
    Map<String, INDArray> result = cfg.hasTeacher() ? state.teacher() : state.student();
    files.writeAtomically(new Path(outDir, "model.pdas"),
        ModelFile.toBytes(new PromptDasModel(Weights.fromGraph(state.network(), result))));
    commit(files);
    log.info("train: {} steps done; model {}", state.step(), new Path(output, "model.pdas"));
  }

  /** What was asked: network, training configuration, inputs, workers and local steps (JSON). */
  private byte[] trainJson(Context ctx, TrainConfig cfg, int localSteps) {
    ObjectMapper json = new ObjectMapper();
    try {
      ObjectNode root = json.createObjectNode();
      root.set("network", json.readTree(start.network().toJson()));
      root.set("training", json.readTree(cfg.toJson()));
      root.put("source", ctx.get(SOURCE)).put("target", ctx.get(TARGET)).put("partitions", partitions)
          .put("local_steps", localSteps).put("shards", execution.shards());
      return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * {@link #STEP_THREADS} resolved ({@link Execution#threads}); a worker's cores are, in local
   * mode, the driver's over the workers that run at once, on a cluster {@code spark.task.cpus}.
   */
  private int stepThreads(Context ctx, NetworkConfig net) {
    var sc = ctx.spark().sparkContext();
    return Execution.threads(ctx.get(STEP_THREADS), net, () -> {
      if (sc.isLocal()) {
        int cores = sc.defaultParallelism();
        return Math.max(1, cores / Math.max(1, Math.min(partitions, cores)));
      }
      return sc.getConf().getInt("spark.task.cpus", 1);
    });
  }

  /** A replacement takes the earlier run's place only once it is complete. */
  private void commit(HadoopFiles files) {
    if (replacing) {
      files.delete(output);
      files.rename(work, output);
    }
  }

  /**
   * Deletes all but the newest {@link #KEEP_CHECKPOINTS} checkpoints, sparing the pinned steps
   * ({@link #PINNED_CHECKPOINTS}).
   */
  private void pruneCheckpoints(HadoopFiles files, Context ctx) {
    List<Path> all = files.list(new Path(work, "checkpoints"), n -> n.matches("step-\\d+\\.ckpt"));
    List<Double> pinned = ctx.get(PINNED_CHECKPOINTS);
    for (int i = 0; i < all.size() - ctx.get(KEEP_CHECKPOINTS); i++) {
      long step = Long.parseLong(all.get(i).getName().replaceAll("\\D", ""));
      if (!pinned.contains((double) step)) {
        files.delete(all.get(i));
      }
    }
  }

  /** The crops of a tile dataset, dealt to the workers in key order and cached. */
  private JavaRDD<CropRecord> deal(Context ctx, String path, boolean labels, boolean points) {
    int p = partitions;
    JavaRDD<CropRecord> crops = ctx.spark().read().parquet(ctx.files().qualify(path).toString())
        .toJavaRDD().map(r -> CropRecord.of(r, labels, points));
    return crops.sortBy(CropRecord::key, true, p).zipWithIndex()
        .mapToPair(t -> new Tuple2<>((int) (t._2() % p), t._1()))
        .partitionBy(new HashPartitioner(p)).values()
        .persist(StorageLevel.MEMORY_AND_DISK());
  }
}

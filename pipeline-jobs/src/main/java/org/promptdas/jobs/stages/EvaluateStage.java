package org.promptdas.jobs.stages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.config.Param;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.metrics.ErrorOverlay;
import org.promptdas.core.metrics.MetricsAccumulator;
import org.promptdas.core.metrics.Predictions;
import org.promptdas.core.metrics.Protocol;
import org.promptdas.core.metrics.Scorer;
import org.promptdas.core.metrics.SliceScores;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.inputs.SliceRef;
import org.promptdas.jobs.inputs.SliceSet;
import picocli.CommandLine.Command;

/**
 * {@code evaluate}: predicted masks against ground truth, one Spark task per slice pair, under the
 * paper's protocol (or the instance protocol). Writes, atomically, {@code metrics.json} (keys
 * {@code mean}, {@code slices}, {@code undefined_slices}, ...), {@code metrics.csv} and
 * {@code metrics.parquet} (one row per slice plus a {@code mean} row), and per slice an overlay PNG
 * in the paper's colours. Per-partition {@link MetricsAccumulator}s are merged on the driver.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Score predicted masks against ground truth (Dice, AJI, PQ, DQ, SQ).")
public final class EvaluateStage extends StageCommand {
  public static final Param<String> PRED = Param.required("prompt-das.evaluate.pred", "predicted masks");
  public static final Param<String> GT = Param.required("prompt-das.evaluate.gt", "ground truth");
  public static final Param<String> OUT = Param.required("prompt-das.evaluate.out", "output folder");
  public static final Param<String> PROTOCOL = Param.oneOf("prompt-das.evaluate.protocol",
      "how ground-truth instances are formed", List.of("binary", "instance"));
  public static final Param<Integer> MIN_SIZE = Param.integer("prompt-das.evaluate.min-size",
      "predicted components of at most this many px are removed", 0, 1_000_000);
  public static final Param<Boolean> SKIP_MISSING = Param.bool("prompt-das.evaluate.skip-missing",
      "skip slices without a partner instead of failing");
  public static final Param<Boolean> OVERLAYS = Param.bool("prompt-das.evaluate.overlays",
      "write one overlay PNG per slice");
  public static final Param<String> IMAGES = Param.string("prompt-das.evaluate.images",
      "EM slices drawn under the overlays, or empty");
  public static final Param<Double> THRESHOLD = Param.number("prompt-das.evaluate.threshold",
      "binarise predictions above this fraction of full scale (probability maps); -1: predictions must "
      + "be masks or label images", -1, 1);

  static final StructType TABLE = new StructType()
      .add("kind", DataTypes.StringType, false)
      .add("slice", DataTypes.StringType, false)
      .add("dice", DataTypes.DoubleType, true)
      .add("aji", DataTypes.DoubleType, true)
      .add("pq", DataTypes.DoubleType, true)
      .add("dq", DataTypes.DoubleType, true)
      .add("sq", DataTypes.DoubleType, true)
      .add("jaccard", DataTypes.DoubleType, true);

  /** One scored slice: gt slice, pred slice, optional image slice. */
  record Task(SliceRef gt, SliceRef pred, SliceRef image) implements Serializable {}

  /** The scores of one slice. */
  public record SliceResult(String slice, SliceScores scores) implements Serializable {}

  /** What one partition scored: its slices and their accumulated sums. */
  record Partial(List<SliceResult> slices, MetricsAccumulator sums) implements Serializable {}

  private List<Task> tasks;
  private List<String> skipped;

  @Override
  protected String stage() {
    return "evaluate";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(PRED, GT, OUT, PROTOCOL, MIN_SIZE, SKIP_MISSING, OVERLAYS, IMAGES, THRESHOLD);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(PRED, GT, OUT, IMAGES, PROTOCOL, MIN_SIZE, SKIP_MISSING);
  }

  @Override
  protected List<String> inputPaths(Context ctx) {
    return List.of(ctx.get(PRED), ctx.get(GT), ctx.get(IMAGES));
  }

  @Override
  protected List<String> outputPaths(Context ctx) {
    return List.of(ctx.get(OUT));
  }

  @Override
  protected void validate(Context ctx) {
    HadoopFiles files = ctx.files();
    SliceSet gts = SliceSet.resolve(files, ctx.get(GT), null);
    SliceSet preds = SliceSet.resolve(files, ctx.get(PRED), null);
    List<SliceSet.Pair> pairs = SliceSet.pair(gts, "ground-truth", preds, "prediction", ctx.get(SKIP_MISSING));
    List<SliceSet.Pair> withImages = null;
    if (!ctx.get(IMAGES).isEmpty()) {
      withImages = SliceSet.pair(gts, "ground-truth", SliceSet.resolve(files, ctx.get(IMAGES), null),
          "image", true);
    }
    tasks = new ArrayList<>();
    skipped = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      SliceSet.Pair p = pairs.get(i);
      if (p.second() == null) {
        skipped.add(p.first().name());
        continue;
      }
      tasks.add(new Task(p.first(), p.second(), withImages == null ? null : withImages.get(i).second()));
    }
    if (tasks.isEmpty()) {
      throw new BadInput("no slice of " + ctx.get(GT) + " has a prediction in " + ctx.get(PRED));
    }
    if (!skipped.isEmpty()) {
      log.warn("evaluate: skipping {} ground-truth slice(s) without a prediction: {}", skipped.size(),
          skipped.size() > 5 ? skipped.subList(0, 5) + "..." : skipped);
    }
    AtomicOutput.check(files, files.qualify(ctx.get(OUT)), ctx.overwrite());
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    try (AtomicOutput output = AtomicOutput.begin(files, files.qualify(ctx.get(OUT)), ctx.overwrite())) {
      List<SliceResult> results = new ArrayList<>();
      MetricsAccumulator mean = score(ctx, output.temp().toString(), results);
      writeTables(ctx, output.temp(), results, mean);
      output.commit();
      log.info("evaluate: {} slices ({} undefined) -> {}", mean.slices(), mean.undefinedSlices(), output.target());
      log.info("evaluate: mean dice={} aji={} pq={}", fmt(mean.mean("dice")), fmt(mean.mean("aji")),
          fmt(mean.mean("pq")));
    }
  }

  private MetricsAccumulator score(Context ctx, String dir, List<SliceResult> into) {
    HadoopFiles files = ctx.files();
    Scorer scorer = new Scorer(Protocol.parse(ctx.get(PROTOCOL)), ctx.get(MIN_SIZE));
    boolean overlays = ctx.get(OVERLAYS);
    double threshold = ctx.get(THRESHOLD);
    JavaSparkContext jsc = new JavaSparkContext(ctx.spark().sparkContext());
    int parts = Math.min(tasks.size(), Math.max(1, jsc.defaultParallelism() * 4));
    List<Partial> partials = jsc.parallelize(tasks, parts).mapPartitions((Iterator<Task> it) -> {
      List<SliceResult> rs = new ArrayList<>();
      MetricsAccumulator acc = new MetricsAccumulator();
      while (it.hasNext()) {
        Task t = it.next();
        IntImage g = SliceSet.read(files, t.gt());
        IntImage p = Predictions.asMask(SliceSet.read(files, t.pred()), threshold, t.pred().file());
        Scorer.Evaluation ev = scorer.evaluate(p, g, t.pred().file());
        if (overlays) {
          IntImage bg = t.image() == null ? null : SliceSet.read(files, t.image());
          files.write(HadoopFiles.child(new Path(dir), "overlays/" + t.gt().stem() + ".png"),
              PngWriter.rgb(g.width(), g.height(), ErrorOverlay.render(ev.predMask(), ev.gtMask(), bg)));
        }
        rs.add(new SliceResult(t.gt().name(), ev.scores()));
        acc.add(ev.scores());
      }
      return List.of(new Partial(rs, acc)).iterator();
    }).collect();
    MetricsAccumulator total = new MetricsAccumulator();
    for (Partial part : partials) {
      into.addAll(part.slices());
      total.merge(part.sums());
    }
    into.sort(Comparator.comparing(SliceResult::slice));
    return total;
  }

  private void writeTables(Context ctx, Path dir, List<SliceResult> results, MetricsAccumulator mean) {
    HadoopFiles files = ctx.files();
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    ObjectNode m = root.putObject("mean");
    for (String k : SliceScores.NAMES) {
      put(m, k, mean.mean(k));
    }
    ArrayNode slices = root.putArray("slices");
    StringBuilder csv = new StringBuilder("kind,slice," + String.join(",", SliceScores.NAMES) + "\n");
    List<Row> rows = new ArrayList<>();
    for (SliceResult r : results) {
      ObjectNode s = slices.addObject();
      s.put("slice", r.slice());
      for (String k : SliceScores.NAMES) {
        put(s, k, r.scores().get(k));
      }
      csv.append("slice,").append(csvField(r.slice()));
      appendScores(csv, rows, "slice", r.slice(), k -> r.scores().get(k));
    }
    csv.append("mean,mean");
    appendScores(csv, rows, "mean", "mean", mean::mean);
    root.put("undefined_slices", mean.undefinedSlices());
    root.put("scored_slices", mean.slices());
    ArrayNode skip = root.putArray("skipped_slices");
    skipped.forEach(skip::add);
    root.put("protocol", ctx.get(PROTOCOL));
    root.put("min_size", ctx.get(MIN_SIZE));
    root.put("pred", ctx.get(PRED));
    root.put("gt", ctx.get(GT));
    try {
      files.write(new Path(dir, "metrics.json"), json.writeValueAsBytes(root));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    files.write(new Path(dir, "metrics.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
    ctx.spark().createDataFrame(rows, TABLE).coalesce(1).write().mode(SaveMode.ErrorIfExists)
        .parquet(new Path(dir, "metrics.parquet").toString());
  }

  private static void appendScores(StringBuilder csv, List<Row> rows, String kind, String slice,
      java.util.function.ToDoubleFunction<String> score) {
    Object[] values = new Object[2 + SliceScores.NAMES.size()];
    values[0] = kind;
    values[1] = slice;
    int i = 2;
    for (String k : SliceScores.NAMES) {
      double v = score.applyAsDouble(k);
      csv.append(',').append(Double.isNaN(v) ? "" : Double.toString(v));
      values[i++] = Double.isNaN(v) ? null : v;
    }
    csv.append('\n');
    rows.add(RowFactory.create(values));
  }

  private static void put(ObjectNode o, String k, double v) {
    if (Double.isNaN(v)) {
      o.putNull(k);
    } else {
      o.put(k, v);
    }
  }

  private static String csvField(String s) {
    return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  static String fmt(double v) {
    return Double.isNaN(v) ? "undefined" : String.format(Locale.ROOT, "%.4f", v);
  }
}

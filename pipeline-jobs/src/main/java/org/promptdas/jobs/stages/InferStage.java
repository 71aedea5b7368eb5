package org.promptdas.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.core.config.Param;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.io.zarr.Codec;
import org.promptdas.core.io.zarr.OmeZarr;
import org.promptdas.core.io.zarr.ZarrArray;
import org.promptdas.core.labels.Components;
import org.promptdas.core.labels.ConnectedComponents;
import org.promptdas.core.labels.Connectivity;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Point;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.fs.HadoopStore;
import org.promptdas.jobs.fs.ResumableOutput;
import org.promptdas.jobs.inputs.Indexed;
import org.promptdas.jobs.inputs.SliceRef;
import org.promptdas.jobs.inputs.SliceSet;
import org.promptdas.jobs.spark.Sparks;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.infer.SelfPrompting;
import org.promptdas.model.infer.SlidingWindowPredictor;
import org.promptdas.model.train.Execution;
import picocli.CommandLine.Command;

/**
 * {@code infer}: the paper's sliding-window inference, one slice per Spark task (no seams between
 * tasks), the model broadcast as bytes and loaded once per executor JVM. Per slice it writes
 * {@code prob/NAME.png} (8-bit probability), {@code mask/NAME.png} (0/255 after removing small
 * components; written last, it marks the slice done), optionally {@code density/NAME.png}, and
 * {@code stats/NAME.json}; at the end {@code stats.parquet}. Each file is written under a temporary
 * name and renamed. {@code _provenance.json} records the model's and the settings' hashes: a rerun
 * with the same hashes skips finished slices (resume), one with other hashes is refused, so outputs
 * of different models never mix ({@code --overwrite} starts the folder afresh).
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
    description = "Segment whole slices with a model (sliding window, rotation averaging).")
public final class InferStage extends StageCommand {
  public static final Param<String> IMAGES = Param.required("prompt-das.infer.images", "slices to segment");
  public static final Param<String> MODEL = Param.required("prompt-das.infer.model", "model file");
  public static final Param<String> OUT = Param.required("prompt-das.infer.out", "output folder");
  public static final Param<Integer> STRIDE = Param.integer("prompt-das.infer.stride", "window stride in px", 1, 8192);
  public static final Param<Boolean> ROTATIONS = Param.bool("prompt-das.infer.rotations", "average 4 rotations");
  public static final Param<Integer> BATCH = Param.integer("prompt-das.infer.batch", "windows per forward pass", 1, 1024);
  public static final Param<Integer> THREADS = Param.integer("prompt-das.infer.threads",
      "threads of an executor's model: each forward pass's windows are split into that many shards (at "
      + "most; a divisor of the batch) that run side by side with single-threaded ops, faster than "
      + "spreading each small op over the cores; same outputs up to float rounding. 0: auto, the "
      + "executor's cores (local mode: the driver's; on a cluster: spark.executor.cores), 1 for "
      + "encoders of 1024 tokens or more (the paper network)", 0, 1024);
  public static final Param<String> POINTS = Param.string("prompt-das.infer.points", "testing prompts, or empty");
  public static final Param<String> PROMPTS = Param.oneOf("prompt-das.infer.prompts",
      "given: the testing prompts of infer.points only (none without them: the paper's protocol); "
      + "auto: also the points each window's own density map detects (self-prompting, two passes)",
      List.of("given", "auto"));
  public static final Param<Double> PEAK_THRESHOLD = Param.number("prompt-das.infer.peak-threshold",
      "with prompts = auto, the density at or above which a local maximum is a detected point "
      + "(authors: 125/255)", 0.001, 1);
  public static final Param<Double> THRESHOLD = Param.number("prompt-das.infer.threshold", "foreground threshold", 0, 1);
  public static final Param<Integer> MIN_SIZE = Param.integer("prompt-das.infer.min-size",
      "components of at most this many px are removed", 0, 1_000_000);
  public static final Param<Boolean> DENSITY = Param.bool("prompt-das.infer.density", "write density maps");
  public static final Param<String> FORMAT = Param.oneOf("prompt-das.infer.format",
      "png: prob/ and mask/ PNGs per slice; zarr: prob.zarr and mask.zarr OME-Zarr images (uint8, "
      + "slices of one size); both", List.of("png", "zarr", "both"));
  public static final Param<Integer> ZARR_CHUNK = Param.integer("prompt-das.infer.zarr-chunk",
      "side of the OME-Zarr outputs' chunks in px (each chunk one slice deep)", 16, 16384);
  public static final Param<String> ZARR_COMPRESSOR = Param.oneOf("prompt-das.infer.zarr-compressor",
      "compressor of the OME-Zarr outputs' chunks (blosc-lz4: zarr-python's default)", Codec.NAMES);
  public static final Param<String> VOLUME = Param.string("prompt-das.infer.volume", "volume name for the points");

  static final String PROVENANCE = "_provenance.json";
  /** The OME-Zarr outputs (infer.format zarr or both): probability (0-255) and mask (0/255). */
  static final String PROB_ZARR = "prob.zarr";
  static final String MASK_ZARR = "mask.zarr";
  private static final ObjectMapper JSON = new ObjectMapper();

  static final StructType STATS = new StructType()
      .add("slice", DataTypes.IntegerType, false)
      .add("slice_name", DataTypes.StringType, false)
      .add("width", DataTypes.IntegerType, false)
      .add("height", DataTypes.IntegerType, false)
      .add("foreground", DataTypes.DoubleType, false)
      .add("components", DataTypes.IntegerType, false)
      .add("prompts", DataTypes.IntegerType, false)
      .add("max_probability", DataTypes.DoubleType, false)
      .add("seconds", DataTypes.DoubleType, false);

  /** What validation found. */
  private List<SliceRef> slices;
  private byte[] modelBytes;
  private String modelHash;
  /** Shards per forward pass of the executors' models ({@link #THREADS} resolved). */
  private int shards;
  private String settingsHash;
  private PointTable pointTable;
  private String volumeName;
  private ResumableOutput output;

  @Override
  protected String stage() {
    return "infer";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(IMAGES, MODEL, OUT, STRIDE, ROTATIONS, BATCH, THREADS, POINTS, PROMPTS, PEAK_THRESHOLD,
        THRESHOLD, MIN_SIZE, DENSITY, VOLUME, FORMAT, ZARR_CHUNK, ZARR_COMPRESSOR);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(IMAGES, MODEL, OUT, POINTS, STRIDE);
  }

  @Override
  protected List<String> inputPaths(Context ctx) {
    return List.of(ctx.get(IMAGES), ctx.get(MODEL), ctx.get(POINTS));
  }

  @Override
  protected List<String> outputPaths(Context ctx) {
    return List.of(ctx.get(OUT));
  }

  @Override
  protected void validate(Context ctx) {
    HadoopFiles files = ctx.files();
    SliceSet set = SliceSet.resolve(files, ctx.get(IMAGES), null);
    slices = set.slices();
    volumeName = ctx.get(VOLUME).isEmpty() ? set.defaultVolumeName() : ctx.get(VOLUME);
    Path modelPath = files.qualify(ctx.get(MODEL));
    modelBytes = files.read(modelPath);
    PromptDasModel m = ModelFile.fromBytes(modelPath.toString(), modelBytes, null);
    if (ctx.get(STRIDE) > m.config().imageSize()) {
      throw new BadConfig(STRIDE.path() + " = " + ctx.get(STRIDE) + " exceeds the model's window "
          + m.config().imageSize() + " (pixels would be skipped)");
    }
    modelHash = sha256(modelBytes);
    var sc = ctx.spark().sparkContext();
    shards = Execution.threads(ctx.get(THREADS), m.config(),
        () -> sc.isLocal() ? sc.defaultParallelism() : sc.getConf().getInt("spark.executor.cores", 1));
    if (!ctx.get(POINTS).isEmpty()) {
      pointTable = PointTable.load(ctx.spark(), ctx.files(), ctx.get(POINTS));
      pointTable.validate(ctx.get(POINTS), volumeName,
          slices.stream().map(s -> new int[] {s.width(), s.height()}).toList());
    }
    // every setting that changes an output; the testing prompts by their content
    double selfPrompt = selfPromptThreshold(ctx);
    String settings = String.join("|", String.valueOf(ctx.get(STRIDE)), String.valueOf(ctx.get(ROTATIONS)),
        String.valueOf(ctx.get(THRESHOLD)), String.valueOf(ctx.get(MIN_SIZE)),
        pointTable == null ? "" : pointTable.sha256(), volumeName,
        ctx.get(PROMPTS) + (selfPrompt > 0 ? "@" + selfPrompt : ""),
        String.valueOf(ctx.get(DENSITY)), ctx.get(FORMAT), String.valueOf(ctx.get(ZARR_CHUNK)),
        ctx.get(ZARR_COMPRESSOR));
    if (!ctx.get(FORMAT).equals("png") && slices.stream().anyMatch(s -> s.width() != slices.get(0).width()
        || s.height() != slices.get(0).height())) {
      throw new BadConfig(FORMAT.path() + " = " + ctx.get(FORMAT) + ": the OME-Zarr outputs are one volume, but "
          + ctx.get(IMAGES) + " holds slices of different sizes (write png)");
    }
    settingsHash = sha256(settings.getBytes(StandardCharsets.UTF_8));
    output = ResumableOutput.check(files, files.qualify(ctx.get(OUT)), PROVENANCE, provenance(),
        ctx.overwrite(), "holds predictions of another model or other settings");
  }

  /** Self-prompting's peak threshold, 0 with the given prompts only (where it changes nothing). */
  private static double selfPromptThreshold(Context ctx) {
    return ctx.get(PROMPTS).equals("auto") ? ctx.get(PEAK_THRESHOLD) : 0;
  }

  /**
   * The identity of this run's outputs: the model's and the settings' SHA-256 (each slice's
   * input is identified by its own hash in {@code stats/NAME.json}).
   */
  private String provenance() {
    ObjectNode p = JSON.createObjectNode().put("model_sha256", modelHash).put("settings_sha256", settingsHash);
    return p.toPrettyString() + "\n";
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    boolean resuming = output.resuming();
    output.open();
    try {
      Path outDir = output.dir();
      List<Indexed<SliceRef>> all = Indexed.of(slices);
      log.info("infer: {} slices{}", slices.size(), resuming ? " (resuming: slices whose input is "
          + "unchanged since their prediction are kept)" : "");
      JavaSparkContext jsc = new JavaSparkContext(ctx.spark().sparkContext());
      Broadcast<byte[]> bytes = jsc.broadcast(modelBytes);
      boolean png = !ctx.get(FORMAT).equals("zarr");
      boolean zarr = !ctx.get(FORMAT).equals("png");
      if (zarr) {
        Codec codec = Codec.named(ctx.get(ZARR_COMPRESSOR), 1);
        for (String image : List.of(PROB_ZARR, MASK_ZARR)) {
          OmeZarr.createImage(new HadoopStore(files, new Path(outDir, image)), image, slices.size(),
              slices.get(0).height(), slices.get(0).width(), ctx.get(ZARR_CHUNK), codec);
        }
      }
      Task task = new Task(files, outDir.toString(), modelHash, bytes, ctx.get(STRIDE), ctx.get(ROTATIONS),
          ctx.get(BATCH), shards, (float) selfPromptThreshold(ctx), ctx.get(THRESHOLD), ctx.get(MIN_SIZE),
          ctx.get(DENSITY), pointTable, volumeName, png, zarr);
      long computed = jsc.parallelize(all, all.size()).filter(t -> task.run(t.index(), t.item())).count();
      log.info("infer: {} slices predicted, {} kept from the earlier run", computed, all.size() - computed);
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < slices.size(); i++) {
        JsonNode s = files.readJson(HadoopFiles.child(outDir, "stats/" + slices.get(i).stem() + ".json"));
        rows.add(RowFactory.create(i, slices.get(i).name(), s.get("width").asInt(), s.get("height").asInt(),
            s.get("foreground").asDouble(), s.get("components").asInt(), s.get("prompts").asInt(),
            s.path("max_probability").asDouble(), s.get("seconds").asDouble()));
      }
      Sparks.replaceTable(ctx.spark(), files, new Path(outDir, "stats.parquet"), rows, STATS);
      output.commit();
      log.info("infer: {} slices -> {}", slices.size(), output.target());
    } finally {
      output.release();
    }
  }

  /**
   * The work of one slice, carried to the executors (everything in it is serialisable); a
   * {@code selfPromptThreshold} of 0 means the given prompts only.
   */
  record Task(HadoopFiles files, String out, String hash, Broadcast<byte[]> model, int stride,
      boolean rotations, int batch, int shards, float selfPromptThreshold, double threshold, int minSize,
      boolean density, PointTable points, String volume, boolean png, boolean zarr) implements Serializable {

    /**
     * Predicts slice {@code index} unless its stats (written last) say it was made from the same
     * pixels and its PNGs are all present; returns whether it predicted.
     */
    boolean run(int index, SliceRef ref) {
      long t0 = System.nanoTime();
      IntImage img = SliceSet.read(files, ref);
      String stem = ref.stem();
      String inputHash = sha256(img);
      Path statsFile = HadoopFiles.child(new Path(out), "stats/" + stem + ".json");
      if (files.exists(statsFile) && inputHash.equals(files.readJson(statsFile).path("input_sha256").asText())
          && pngsPresent(stem)) {
        return false;
      }
      List<Point> prompts = points == null ? List.of() : points.points(volume, index);
      SlidingWindowPredictor.Result r = new SlidingWindowPredictor(ModelHolder.get(hash, model.value(), shards),
          stride, rotations, batch, selfPromptThreshold > 0 ? new SelfPrompting(selfPromptThreshold) : null)
          .predict(img, prompts, ref.file());
      IntImage prob = new IntImage(r.width(), r.height());
      IntImage raw = new IntImage(r.width(), r.height());
      float highest = 0;
      for (int i = 0; i < prob.size(); i++) {
        prob.data()[i] = Math.round(r.probability()[i] * 255);
        raw.data()[i] = r.probability()[i] > threshold ? 1 : 0;
        highest = Math.max(highest, r.probability()[i]);
      }
      IntImage mask = Instances.removeSmall(raw, minSize, Connectivity.EIGHT);
      Components cc = ConnectedComponents.label(mask, Connectivity.EIGHT);
      long fg = mask.countNonZero();
      if (png) {
        put("prob/" + stem + ".png", PngWriter.grey8(prob));
        put("mask/" + stem + ".png", PngWriter.mask(mask));
      }
      if (zarr) {
        byte[] p = new byte[prob.size()];
        byte[] m = new byte[mask.size()];
        for (int i = 0; i < p.length; i++) {
          p[i] = (byte) prob.data()[i];
          m[i] = (byte) (mask.data()[i] != 0 ? 255 : 0);
        }
        ZarrArray.open(new HadoopStore(files, new Path(new Path(out), PROB_ZARR)), "0").writePlane(index, p);
        ZarrArray.open(new HadoopStore(files, new Path(new Path(out), MASK_ZARR)), "0").writePlane(index, m);
      }
      if (density) {
        IntImage d = new IntImage(r.width(), r.height());
        for (int i = 0; i < d.size(); i++) {
          d.data()[i] = (int) Math.round(Math.max(0, Math.min(1, r.density()[i])) * 255);
        }
        put("density/" + stem + ".png", PngWriter.grey8(d));
      }
      ObjectNode stats = JSON.createObjectNode().put("width", r.width()).put("height", r.height())
          .put("foreground", fg / (double) mask.size()).put("components", cc.count())
          .put("prompts", prompts.size()).put("max_probability", highest)
          .put("seconds", (System.nanoTime() - t0) / 1e9).put("input_sha256", inputHash);
      put("stats/" + stem + ".json", stats.toPrettyString().getBytes(StandardCharsets.UTF_8)); // last: done
      return true;
    }

    /** Whether the slice's PNG outputs are all there (a deleted one is redone). */
    private boolean pngsPresent(String stem) {
      Path o = new Path(out);
      return (!png || files.exists(HadoopFiles.child(o, "prob/" + stem + ".png"))
              && files.exists(HadoopFiles.child(o, "mask/" + stem + ".png")))
          && (!density || files.exists(HadoopFiles.child(o, "density/" + stem + ".png")));
    }

    private void put(String rel, byte[] bytes) {
      files.writeAtomically(HadoopFiles.child(new Path(out), rel), bytes);
    }
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The SHA-256 of a slice's size and pixels: what its prediction was made from. */
  static String sha256(IntImage img) {
    ByteBuffer b = ByteBuffer.allocate(8 + 4 * img.size());
    b.putInt(img.width()).putInt(img.height());
    b.asIntBuffer().put(img.data());
    return sha256(b.array());
  }
}

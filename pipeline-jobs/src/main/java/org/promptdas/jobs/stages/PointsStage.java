package org.promptdas.jobs.stages;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.promptdas.core.config.Param;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.CentrePoints;
import org.promptdas.core.labels.Components;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Point;
import org.promptdas.core.labels.PointSampler;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.inputs.Indexed;
import org.promptdas.jobs.inputs.SliceRef;
import org.promptdas.jobs.inputs.SliceSet;
import picocli.CommandLine.Command;

/**
 * {@code points}: the sparse point annotation of weakly supervised adaptation, simulated
 * reproducibly from full labels: one point (the instance's centre) on a fraction of all instances
 * of a volume (the paper: 15%). Every instance gets a pseudo-random key from (seed, volume, slice,
 * centre); the round(fraction x instances) smallest keys are chosen over the whole volume, so the
 * choice does not depend on partitioning, and a larger fraction extends a smaller one. Writes a
 * Parquet table {@code volume, slice, slice_name, x, y} (the layout {@code tile --points} reads)
 * and a CSV copy for people, {@code _points.csv} inside the table folder (Parquet readers skip
 * names starting with "_"). Also serves testing prompts (Prompt-DAS+) at any fraction.
 */
@Command(name = "points", mixinStandardHelpOptions = true,
    description = "Sample one point on a fraction of the instances of a labelled volume.")
public final class PointsStage extends StageCommand {
  public static final Param<String> LABELS = Param.required("prompt-das.points.labels", "labels to sample from");
  public static final Param<String> OUT = Param.required("prompt-das.points.out", "output point table");
  public static final Param<Double> FRACTION = Param.number("prompt-das.points.fraction",
      "fraction of instances with a point", 0, 1);
  public static final Param<Long> SEED = Param.longValue("prompt-das.points.seed", "seed of the choice");
  public static final Param<String> VOLUME = Param.string("prompt-das.points.volume",
      "volume name (empty: from the labels' name)");

  static final StructType SCHEMA = new StructType()
      .add("volume", DataTypes.StringType, false)
      .add("slice", DataTypes.IntegerType, false)
      .add("slice_name", DataTypes.StringType, false)
      .add("x", DataTypes.IntegerType, false)
      .add("y", DataTypes.IntegerType, false)
      .add("key", DataTypes.DoubleType, false);

  private List<SliceRef> slices;
  private String volumeName;

  @Override
  protected String stage() {
    return "points";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(LABELS, OUT, FRACTION, SEED, VOLUME);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(LABELS, OUT, FRACTION, VOLUME);
  }

  @Override
  protected List<String> inputPaths(Context ctx) {
    return List.of(ctx.get(LABELS));
  }

  @Override
  protected List<String> outputPaths(Context ctx) {
    return List.of(ctx.get(OUT));
  }

  @Override
  protected void validate(Context ctx) {
    SliceSet set = SliceSet.resolve(ctx.files(), ctx.get(LABELS), null);
    slices = set.slices();
    volumeName = ctx.get(VOLUME).isEmpty() ? set.defaultVolumeName() : ctx.get(VOLUME);
    AtomicOutput.check(ctx.files(), ctx.files().qualify(ctx.get(OUT)), ctx.overwrite());
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    String vol = volumeName;
    long seed = ctx.get(SEED);
    List<Indexed<SliceRef>> tasks = Indexed.of(slices);
    List<Row> all = new JavaSparkContext(ctx.spark().sparkContext())
        .parallelize(tasks, Math.max(1, tasks.size()))
        .flatMap(t -> {
          int index = t.index();
          SliceRef ref = t.item();
          IntImage label = SliceSet.read(files, ref);
          Components inst = Instances.of(label);
          List<Row> rows = new ArrayList<>();
          for (Point p : CentrePoints.of(inst)) {
            rows.add(RowFactory.create(vol, index, ref.name(), p.x(), p.y(),
                PointSampler.key(seed, vol, index, p)));
          }
          return rows.iterator();
        }).collect();
    int k = PointSampler.count(all.size(), ctx.get(FRACTION));
    Dataset<Row> chosen = ctx.spark().createDataFrame(all, SCHEMA).orderBy("key").limit(k)
        .orderBy("slice", "y", "x").drop("key");
    try (AtomicOutput output = AtomicOutput.begin(files, files.qualify(ctx.get(OUT)), ctx.overwrite())) {
      chosen.coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(output.temp().toString());
      StringBuilder csv = new StringBuilder("volume,slice,slice_name,x,y\n");
      for (Row r : chosen.collectAsList()) {
        csv.append(PointTable.csvField(r.getString(0))).append(',').append(r.getInt(1)).append(',')
            .append(PointTable.csvField(r.getString(2)))
            .append(',').append(r.getInt(3)).append(',').append(r.getInt(4)).append('\n');
      }
      files.write(new Path(output.temp(), "_points.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
      output.commit();
      log.info(String.format(Locale.ROOT, "points: %d of %d instances (%.1f%%) of volume '%s' -> %s",
          k, all.size(), 100.0 * k / Math.max(1, all.size()), vol, output.target()));
    }
  }
}

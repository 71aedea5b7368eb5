package org.promptdas.jobs.stages;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.promptdas.core.config.Param;
import org.promptdas.core.geometry.Crops;
import org.promptdas.core.geometry.TileGrid;
import org.promptdas.core.geometry.Window;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Point;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.inputs.SliceRef;
import org.promptdas.jobs.inputs.Indexed;
import org.promptdas.jobs.inputs.SliceSet;
import picocli.CommandLine.Command;

/**
 * {@code tile}: slices (with optional labels and points) from any Hadoop-FS path into a Parquet
 * dataset of crops, one Spark task per slice so that an executor holds one slice at a time (crops
 * are produced lazily from it). Rows: {@code volume, slice, slice_name, y, x, h, w, image} (PNG),
 * {@code label} (PNG of the label crop, or null), {@code points} (crop-relative, or null);
 * partitioned by volume.
 */
@Command(name = "tile", mixinStandardHelpOptions = true,
    description = "Cut slices (+ labels, + points) into a Parquet dataset of crops.")
public final class TileStage extends StageCommand {
  public static final Param<String> IMAGES = Param.required("prompt-das.tile.images",
      "slice images: folder, stack file or FILE.h5#dataset");
  public static final Param<String> LABELS = Param.string("prompt-das.tile.labels",
      "labels matching the images, or empty");
  public static final Param<String> POINTS = Param.string("prompt-das.tile.points",
      "point table (CSV or Parquet), or empty");
  public static final Param<String> OUT = Param.required("prompt-das.tile.out", "output Parquet dataset");
  public static final Param<String> VOLUME = Param.string("prompt-das.tile.volume",
      "volume name stored with the crops (empty: from the input's name)");
  public static final Param<String> DATASET = Param.string("prompt-das.tile.hdf5-dataset",
      "HDF5 dataset when the path names none");
  public static final Param<Integer> CROP = Param.integer("prompt-das.tile.crop", "crop size in px", 8, 8192);
  public static final Param<Integer> STRIDE = Param.integer("prompt-das.tile.stride",
      "crop stride in px (at most the crop)", 1, 8192);
  public static final Param<String> SMALL = Param.oneOf("prompt-das.tile.small-slices",
      "policy for slices smaller than a crop", List.of("refuse", "pad"));
  public static final Param<Integer> FILES = Param.integer("prompt-das.tile.files-per-volume",
      "Parquet files per volume (0: one per slice task)", 0, 100_000);

  public static final StructType SCHEMA = new StructType()
      .add("volume", DataTypes.StringType, false)
      .add("slice", DataTypes.IntegerType, false)
      .add("slice_name", DataTypes.StringType, false)
      .add("y", DataTypes.IntegerType, false)
      .add("x", DataTypes.IntegerType, false)
      .add("h", DataTypes.IntegerType, false)
      .add("w", DataTypes.IntegerType, false)
      .add("image", DataTypes.BinaryType, false)
      .add("label", DataTypes.BinaryType, true)
      .add("points", DataTypes.createArrayType(new StructType()
          .add("x", DataTypes.IntegerType, false)
          .add("y", DataTypes.IntegerType, false), false), true);

  /** What validation found, for the run. */
  private List<SliceSet.Pair> pairs;
  private String volumeName;
  private PointTable pointTable;

  @Override
  protected String stage() {
    return "tile";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(IMAGES, LABELS, POINTS, OUT, VOLUME, DATASET, CROP, STRIDE, SMALL, FILES);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(IMAGES, LABELS, POINTS, OUT, VOLUME, CROP, STRIDE);
  }

  /** {@code --crop} alone also sets the stride: crops side by side. */
  @Override
  protected void addOptionOverrides(List<String> o) {
    if (option(CROP) != null && option(STRIDE) == null) {
      o.add(STRIDE.path() + "=" + option(CROP));
    }
  }

  private TileGrid grid(Context ctx) {
    try {
      return new TileGrid(ctx.get(CROP), ctx.get(STRIDE),
          TileGrid.SmallSlicePolicy.valueOf(ctx.get(SMALL).toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw new org.promptdas.core.PromptDasException.BadConfig("prompt-das.tile: " + e.getMessage());
    }
  }

  @Override
  protected List<String> inputPaths(Context ctx) {
    return List.of(ctx.get(IMAGES), ctx.get(LABELS), ctx.get(POINTS));
  }

  @Override
  protected List<String> outputPaths(Context ctx) {
    return List.of(ctx.get(OUT));
  }

  @Override
  protected void validate(Context ctx) {
    HadoopFiles files = ctx.files();
    TileGrid grid = grid(ctx);
    SliceSet imgs = SliceSet.resolve(files, ctx.get(IMAGES), ctx.get(DATASET));
    if (ctx.get(LABELS).isEmpty()) {
      pairs = imgs.slices().stream().map(s -> new SliceSet.Pair(s, null)).toList();
    } else {
      SliceSet labs = SliceSet.resolve(files, ctx.get(LABELS), ctx.get(DATASET));
      pairs = SliceSet.pair(imgs, "image", labs, "label", false);
    }
    for (SliceSet.Pair p : pairs) {
      grid.count(p.first().width(), p.first().height(), p.first().file());
    }
    volumeName = ctx.get(VOLUME).isEmpty() ? imgs.defaultVolumeName() : ctx.get(VOLUME);
    AtomicOutput.check(files, files.qualify(ctx.get(OUT)), ctx.overwrite());
    if (!ctx.get(POINTS).isEmpty()) {
      pointTable = PointTable.load(ctx.spark(), ctx.files(), ctx.get(POINTS));
      List<int[]> sizes = pairs.stream().map(p -> new int[] {p.first().width(), p.first().height()}).toList();
      pointTable.validate(ctx.get(POINTS), volumeName, sizes);
    }
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    TileGrid grid = grid(ctx);
    List<Indexed<SliceSet.Pair>> tasks = Indexed.of(pairs);
    String vol = volumeName;
    PointTable pts = pointTable;
    LongAccumulator count = ctx.spark().sparkContext().longAccumulator("crops");
    JavaRDD<Row> rows = new JavaSparkContext(ctx.spark().sparkContext())
        .parallelize(tasks, Math.max(1, tasks.size()))
        .flatMap(t -> crops(files, grid, vol, t.index(), t.item(), pts))
        .map(r -> {
          count.add(1);
          return r;
        });
    Dataset<Row> df = ctx.spark().createDataFrame(rows, SCHEMA);
    if (ctx.get(FILES) > 0) {
      df = df.coalesce(ctx.get(FILES));
    }
    try (AtomicOutput output = AtomicOutput.begin(files, files.qualify(ctx.get(OUT)), ctx.overwrite())) {
      df.write().mode(SaveMode.ErrorIfExists).partitionBy("volume").parquet(output.temp().toString());
      output.commit();
      long n = count.value();
      log.info("tile: {} slices of volume '{}' -> {} crops of {}px (stride {}) in {}", pairs.size(),
          vol, n, grid.crop(), grid.stride(), output.target());
    }
  }

  /**
   * A label crop with its ids kept, or renumbered 1..n within the crop (order of appearance) when an
   * id exceeds 65535 and would not fit a 16-bit PNG (volumes with more instances than that).
   */
  public static IntImage labelCrop(IntImage label, Window w) {
    IntImage crop = Crops.extract(label, w, Crops.Padding.ZERO);
    return crop.max() > 65535 ? Instances.ofIds(crop).labels() : crop;
  }

  /** The crops of one slice, produced one at a time from the decoded slice. */
  static Iterator<Row> crops(HadoopFiles files, TileGrid grid, String volume, int index,
      SliceSet.Pair pair, PointTable points) {
    SliceRef ref = pair.first();
    IntImage image = SliceSet.read(files, ref);
    IntImage label = pair.second() == null ? null : SliceSet.read(files, pair.second());
    List<Point> slicePoints = points == null ? null : points.points(volume, index);
    Iterator<Window> windows = grid.windows(ref.width(), ref.height(), ref.file()).iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return windows.hasNext();
      }

      @Override
      public Row next() {
        Window w = windows.next();
        byte[] img = PngWriter.greyAuto(Crops.extract(image, w, Crops.Padding.REFLECT));
        byte[] lab = label == null ? null : PngWriter.greyAuto(labelCrop(label, w));
        List<Row> inside = null;
        if (slicePoints != null) {
          inside = new ArrayList<>();
          for (Point p : slicePoints) {
            if (p.x() >= w.x() && p.y() >= w.y() && p.x() < w.x() + w.width() && p.y() < w.y() + w.height()) {
              inside.add(RowFactory.create(p.x() - w.x(), p.y() - w.y()));
            }
          }
        }
        return RowFactory.create(volume, index, ref.name(), w.y(), w.x(), w.height(), w.width(),
            img, lab, inside == null ? null : scala.collection.JavaConverters.asScalaBuffer(inside));
      }
    };
  }
}

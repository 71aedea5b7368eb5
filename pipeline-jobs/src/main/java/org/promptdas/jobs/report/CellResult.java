package org.promptdas.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.promptdas.jobs.fs.HadoopFiles;

/**
 * The scores of one experiment cell (a model on a dataset with a fraction of testing prompts and a
 * prompt mode): the means of {@code evaluate}'s metrics.json. A metric is NaN when every slice was
 * undefined (no ground truth and no prediction anywhere).
 *
 * @param prompts {@code given} (the testing prompts only, the paper's protocol) or {@code auto}
 *     (self-prompting added, {@code infer.prompts})
 * @param evalDir the cell's evaluate output, relative to the report (overlays live under it)
 */
public record CellResult(String dataset, String model, double promptFraction, String prompts,
    double dice, double aji, double pq, double dq, double sq, int slices, String evalDir) {

  public static final StructType SCHEMA = new StructType()
      .add("dataset", DataTypes.StringType, false)
      .add("model", DataTypes.StringType, false)
      .add("prompt_fraction", DataTypes.DoubleType, false)
      .add("prompts", DataTypes.StringType, false)
      .add("dice", DataTypes.DoubleType, false)
      .add("aji", DataTypes.DoubleType, false)
      .add("pq", DataTypes.DoubleType, false)
      .add("dq", DataTypes.DoubleType, false)
      .add("sq", DataTypes.DoubleType, false)
      .add("slices", DataTypes.IntegerType, false);

  /** Reads {@code <root>/<evalDir>/metrics.json}. */
  public static CellResult read(HadoopFiles files, Path root, String evalDir, String dataset,
      String model, double fraction, String prompts) {
    JsonNode j = files.readJson(new Path(root, evalDir + "/metrics.json"));
    JsonNode m = j.get("mean");
    return new CellResult(dataset, model, fraction, prompts, num(m, "dice"), num(m, "aji"), num(m, "pq"),
        num(m, "dq"), num(m, "sq"), j.get("slices").size(), evalDir);
  }

  private static double num(JsonNode mean, String key) {
    JsonNode v = mean.get(key);
    return v == null || v.isNull() ? Double.NaN : v.asDouble();
  }

  public Row toRow() {
    return RowFactory.create(dataset, model, promptFraction, prompts, dice, aji, pq, dq, sq, slices);
  }

  /** The cell's testing prompts for people: {@code 15%}, or {@code 15% + auto} with self-prompting. */
  public String promptLabel() {
    return String.format(Locale.ROOT, "%.0f%%", 100 * promptFraction) + ("auto".equals(prompts) ? " + auto" : "");
  }

  /** CSV with a header; NaN is written as an empty field. */
  public static String csv(List<CellResult> cells) {
    StringBuilder b = new StringBuilder("dataset,model,prompt_fraction,prompts,dice,aji,pq,dq,sq,slices\n");
    for (CellResult c : cells) {
      b.append(c.dataset).append(',').append(c.model).append(',').append(c.promptFraction).append(',')
          .append(c.prompts);
      for (double v : new double[] {c.dice, c.aji, c.pq, c.dq, c.sq}) {
        b.append(',').append(Double.isNaN(v) ? "" : Double.toString(v));
      }
      b.append(',').append(c.slices).append('\n');
    }
    return b.toString();
  }
}

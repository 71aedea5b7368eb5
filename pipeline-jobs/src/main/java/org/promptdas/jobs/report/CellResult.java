package org.promptdas.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.promptdas.jobs.fs.HadoopFiles;

/**
 * The scores of one experiment cell (a model on a dataset with a fraction of testing prompts): the
 * means of {@code evaluate}'s metrics.json. A metric is NaN when every slice was undefined (no
 * ground truth and no prediction anywhere).
 *
 * @param evalDir the cell's evaluate output, relative to the report (overlays live under it)
 */
public record CellResult(String dataset, String model, double promptFraction, double dice,
    double aji, double pq, double dq, double sq, int slices, String evalDir) {

  public static final StructType SCHEMA = new StructType()
      .add("dataset", DataTypes.StringType, false)
      .add("model", DataTypes.StringType, false)
      .add("prompt_fraction", DataTypes.DoubleType, false)
      .add("dice", DataTypes.DoubleType, false)
      .add("aji", DataTypes.DoubleType, false)
      .add("pq", DataTypes.DoubleType, false)
      .add("dq", DataTypes.DoubleType, false)
      .add("sq", DataTypes.DoubleType, false)
      .add("slices", DataTypes.IntegerType, false);

  /** Reads {@code <root>/<evalDir>/metrics.json}. */
  public static CellResult read(HadoopFiles files, Path root, String evalDir, String dataset,
      String model, double fraction) {
    JsonNode j = files.readJson(new Path(root, evalDir + "/metrics.json"));
    JsonNode m = j.get("mean");
    return new CellResult(dataset, model, fraction, num(m, "dice"), num(m, "aji"), num(m, "pq"),
        num(m, "dq"), num(m, "sq"), j.get("slices").size(), evalDir);
  }

  private static double num(JsonNode mean, String key) {
    JsonNode v = mean.get(key);
    return v == null || v.isNull() ? Double.NaN : v.asDouble();
  }

  public Row toRow() {
    return RowFactory.create(dataset, model, promptFraction, dice, aji, pq, dq, sq, slices);
  }

  /** CSV with a header; NaN is written as an empty field. */
  public static String csv(List<CellResult> cells) {
    StringBuilder b = new StringBuilder("dataset,model,prompt_fraction,dice,aji,pq,dq,sq,slices\n");
    for (CellResult c : cells) {
      b.append(c.dataset).append(',').append(c.model).append(',').append(c.promptFraction);
      for (double v : new double[] {c.dice, c.aji, c.pq, c.dq, c.sq}) {
        b.append(',').append(Double.isNaN(v) ? "" : Double.toString(v));
      }
      b.append(',').append(c.slices).append('\n');
    }
    return b.toString();
  }
}

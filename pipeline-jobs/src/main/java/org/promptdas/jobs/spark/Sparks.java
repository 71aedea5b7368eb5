package org.promptdas.jobs.spark;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.promptdas.jobs.fs.AtomicOutput;
import org.promptdas.jobs.fs.HadoopFiles;

/**
 * Creates the Spark session of a stage. Under {@code spark-submit} the master and settings given
 * there win; otherwise {@code prompt-das.spark.master} (default {@code local[*]}) is used. Extra
 * settings come from {@code prompt-das.spark.conf}.
 */
public final class Sparks {
  private Sparks() {}

  /**
   * Writes a small table (a few rows per slice, round or cell) as one Parquet file at {@code path},
   * replacing an older one only once the new one is complete ({@link AtomicOutput}).
   */
  public static void replaceTable(SparkSession spark, HadoopFiles files, Path path, List<Row> rows,
      StructType schema) {
    try (AtomicOutput out = AtomicOutput.begin(files, path, true)) {
      spark.createDataFrame(rows, schema).coalesce(1).write().parquet(out.temp().toString());
      out.commit();
    }
  }

  public static SparkSession session(Config config, String stage) {
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      conf.setMaster(config.getString("prompt-das.spark.master"));
    }
    if (!conf.contains("spark.app.name")) {
      conf.setAppName(config.getString("prompt-das.spark.app-name") + " " + stage);
    }
    conf.setIfMissing("spark.ui.showConsoleProgress", "false");
    conf.setIfMissing("spark.sql.parquet.compression.codec", "zstd");
    for (Map.Entry<String, Object> e : config.getConfig("prompt-das.spark.conf").root().unwrapped().entrySet()) {
      conf.set(e.getKey(), String.valueOf(e.getValue()));
    }
    SparkSession s = SparkSession.builder().config(conf).getOrCreate();
    s.sparkContext().addSparkListener(new ProgressListener(stage));
    return s;
  }
}

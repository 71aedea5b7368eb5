package org.promptdas.jobs.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * One row of the training history: a round's mean losses over all workers' local steps, the
 * learning rate at the round's first step, the crops trained on and the round's wall time.
 * Written as JSON lines ({@code history.jsonl}, kept current at every checkpoint) and as Parquet.
 */
public record RoundRecord(int round, long step, double learningRate, double loss, double segmentation,
    double detection, double contrastive, long crops, double seconds, double cropsPerSecond) {

  public static final StructType SCHEMA = new StructType()
      .add("round", DataTypes.IntegerType, false)
      .add("step", DataTypes.LongType, false)
      .add("learning_rate", DataTypes.DoubleType, false)
      .add("loss", DataTypes.DoubleType, false)
      .add("segmentation", DataTypes.DoubleType, false)
      .add("detection", DataTypes.DoubleType, false)
      .add("contrastive", DataTypes.DoubleType, false)
      .add("crops", DataTypes.LongType, false)
      .add("seconds", DataTypes.DoubleType, false)
      .add("crops_per_second", DataTypes.DoubleType, false);

  private static final ObjectMapper JSON = new ObjectMapper();

  public Row toRow() {
    return RowFactory.create(round, step, learningRate, loss, segmentation, detection, contrastive,
        crops, seconds, cropsPerSecond);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static RoundRecord fromJson(String line) {
    try {
      return JSON.readValue(line, RoundRecord.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The rows of JSON lines ({@link #jsonLines}'s output; blank lines are skipped). */
  public static List<RoundRecord> parseLines(String jsonLines) {
    return jsonLines.lines().filter(l -> !l.isBlank()).map(RoundRecord::fromJson).toList();
  }

  /** JSON lines of {@code rows}. */
  public static String jsonLines(List<RoundRecord> rows) {
    StringBuilder b = new StringBuilder();
    rows.forEach(r -> b.append(r.toJson()).append('\n'));
    return b.toString();
  }
}

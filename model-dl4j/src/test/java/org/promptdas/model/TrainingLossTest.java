package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.loss.LossWeights;
import org.promptdas.model.loss.TrainingLoss;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.TokenMasks;
import org.promptdas.model.network.Weights;

/**
 * The three training losses against hand computations from the graph's own outputs (double
 * precision, small case), and their gradients against finite differences.
 */
class TrainingLossTest {
  static final NetworkConfig CFG = new NetworkConfig(32, 8, 32, 1, 2, 2, 4, 2, 2, 24, 8, 2);
  static final int B = 2;
  static final int P = 4;
  static final int Q = 3;
  static final int K = 4;
  static final double TAU = 0.5;
  static final LossWeights W = new LossWeights(1.0, 2.0, 0.3, TAU);
  static SameDiff sd;
  static Map<String, INDArray> ph;

  @BeforeAll
  static void build() {
    sd = PromptDasGraph.build(Weights.initialise(CFG, 2), B, P, Q + K, DataType.DOUBLE);
    TrainingLoss.attach(sd, CFG, B, P, Q, K, W, DataType.DOUBLE);
    Nd4j.getRandom().setSeed(9);
    int[] valid = {2, 4};
    ph = new HashMap<>();
    ph.put(PromptDasGraph.IMAGE, Nd4j.randn(DataType.DOUBLE, B, 3, 32, 32));
    ph.put(PromptDasGraph.POINTS, Nd4j.rand(DataType.DOUBLE, B, P + Q + K, 2).muli(31));
    ph.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, P, Q + K, DataType.DOUBLE));
    ph.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, P, Q + K, DataType.DOUBLE));
    ph.put(TrainingLoss.SEG_TARGET, Nd4j.rand(DataType.DOUBLE, B, 32, 32).gt(0.5).castTo(DataType.DOUBLE));
    ph.put(TrainingLoss.SEG_WEIGHT, Nd4j.rand(DataType.DOUBLE, B, 32, 32).gt(0.3).castTo(DataType.DOUBLE));
    ph.put(TrainingLoss.DET_TARGET, Nd4j.rand(DataType.DOUBLE, B, 1, 32, 32));
    ph.put(TrainingLoss.DET_WEIGHT, Nd4j.createFromArray(1.0, 0.0));
    ph.put(TrainingLoss.PROMPT_WEIGHT, Nd4j.createFromArray(new double[][] {{1, 1, 0, 0}, {1, 0, 1, 0}}));
    ph.put(TrainingLoss.QUERY_WEIGHT, Nd4j.createFromArray(new double[][] {{1, 1, 1}, {1, 0, 1}}));
    ph.put(TrainingLoss.BACKGROUND_WEIGHT, Nd4j.createFromArray(new double[][] {{1, 1, 1, 1}, {1, 1, 0, 1}}));
  }

  @Test
  void lossesMatchHandComputations() {
    Map<String, INDArray> o = sd.output(ph, PromptDasGraph.SEG_LOGITS_FULL, PromptDasGraph.DET,
        PromptDasGraph.CONTRAST, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS, TrainingLoss.PCL_LOSS,
        TrainingLoss.LOSS);
    // segmentation: masked mean of -[y log p + (1 - y) log(1 - p)]
    INDArray x = o.get(PromptDasGraph.SEG_LOGITS_FULL);
    INDArray y = ph.get(TrainingLoss.SEG_TARGET);
    INDArray m = ph.get(TrainingLoss.SEG_WEIGHT);
    double num = 0;
    double den = 0;
    for (long i = 0; i < x.length(); i++) {
      double p = 1 / (1 + Math.exp(-x.getDouble(i)));
      double t = y.getDouble(i);
      num += m.getDouble(i) * -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
      den += m.getDouble(i);
    }
    assertEquals(num / den, o.get(TrainingLoss.SEG_LOSS).getDouble(0), 1e-9);
    // detection: mean squared error over the supervised sample (sample 0)
    INDArray det = o.get(PromptDasGraph.DET);
    INDArray dt = ph.get(TrainingLoss.DET_TARGET);
    double se = 0;
    for (int i = 0; i < 32 * 32; i++) {
      double diff = det.getDouble(0, 0, i / 32, i % 32) - dt.getDouble(0, 0, i / 32, i % 32);
      se += diff * diff;
    }
    assertEquals(se / (32 * 32), o.get(TrainingLoss.DET_LOSS).getDouble(0), 1e-9);
    // contrastive: eq. 3 with mu^f the mean of the weighted prompt embeddings (the loss guards the
    // division with 1e-6, which shows at 1e-9 once the embeddings are of order 1)
    INDArray z = o.get(PromptDasGraph.CONTRAST);
    double pcl = 0;
    for (int b = 0; b < B; b++) {
      double[] mu = new double[32];
      double n = 0;
      for (int j = 0; j < P; j++) {
        double wj = ph.get(TrainingLoss.PROMPT_WEIGHT).getDouble(b, j);
        n += wj;
        for (int c = 0; c < 32; c++) {
          mu[c] += wj * z.getDouble(b, 1 + j, c);
        }
      }
      for (int c = 0; c < 32; c++) {
        mu[c] /= n + 1e-6;
      }
      for (int i = 0; i < Q; i++) {
        if (ph.get(TrainingLoss.QUERY_WEIGHT).getDouble(b, i) == 0) {
          continue;
        }
        double pos = Math.exp(dot(mu, z, b, 1 + P + i) / TAU);
        double neg = 0;
        for (int k = 0; k < K; k++) {
          if (ph.get(TrainingLoss.BACKGROUND_WEIGHT).getDouble(b, k) == 1) {
            neg += Math.exp(dot(z, b, 1 + P + Q + k, 1 + P + i) / TAU);
          }
        }
        pcl += -Math.log(pos / (pos + neg));
      }
    }
    pcl /= B;
    assertEquals(pcl, o.get(TrainingLoss.PCL_LOSS).getDouble(0), 1e-9);
    double total = o.get(TrainingLoss.SEG_LOSS).getDouble(0) + 2.0 * o.get(TrainingLoss.DET_LOSS).getDouble(0)
        + 0.3 * pcl;
    assertEquals(total, o.get(TrainingLoss.LOSS).getDouble(0), 1e-9);
  }

  private static double dot(double[] mu, INDArray z, int b, int t) {
    double s = 0;
    for (int c = 0; c < mu.length; c++) {
      s += mu[c] * z.getDouble(b, t, c);
    }
    return s;
  }

  private static double dot(INDArray z, int b, int t1, int t2) {
    double s = 0;
    for (int c = 0; c < z.size(2); c++) {
      s += z.getDouble(b, t1, c) * z.getDouble(b, t2, c);
    }
    return s;
  }

  @Test
  void shardLossesWithTheBatchsDenominatorsAddUpToTheBatchLoss() {
    Map<String, INDArray> whole = sd.output(ph, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS,
        TrainingLoss.PCL_LOSS, TrainingLoss.LOSS);
    SameDiff shard = PromptDasGraph.build(Weights.initialise(CFG, 2), 1, P, Q + K, DataType.DOUBLE);
    TrainingLoss.attach(shard, CFG, 1, P, Q, K, W, DataType.DOUBLE, TrainingLoss.Normalisers.GIVEN);
    Map<String, INDArray> norms = Map.of(
        TrainingLoss.SEG_NORM, Nd4j.scalar(ph.get(TrainingLoss.SEG_WEIGHT).sumNumber().doubleValue() + 1e-6),
        TrainingLoss.DET_NORM, Nd4j.scalar(ph.get(TrainingLoss.DET_WEIGHT).sumNumber().doubleValue() * 32 * 32 + 1e-6),
        TrainingLoss.PCL_NORM, Nd4j.scalar((double) B));
    Map<String, Double> sums = new HashMap<>();
    for (int b = 0; b < B; b++) {
      Map<String, INDArray> row = new HashMap<>(norms);
      for (Map.Entry<String, INDArray> e : ph.entrySet()) {
        row.put(e.getKey(), e.getValue().slice(b).dup().reshape(prepend(e.getValue().shape())));
      }
      shard.output(row, TrainingLoss.SEG_LOSS, TrainingLoss.DET_LOSS, TrainingLoss.PCL_LOSS, TrainingLoss.LOSS)
          .forEach((k, v) -> sums.merge(k, v.getDouble(0), Double::sum));
    }
    for (String k : whole.keySet()) {
      assertTrue(whole.get(k).getDouble(0) != 0, k + " is 0 here, so the check would prove nothing");
      assertEquals(whole.get(k).getDouble(0), sums.get(k), 1e-9, k);
    }
  }

  /** {@code shape} with its first axis (the batch) set to 1. */
  private static long[] prepend(long[] shape) {
    long[] out = shape.clone();
    out[0] = 1;
    return out;
  }

  @Test
  void lossGradientsMatchFiniteDifferences() {
    FiniteDifferences.Result r = FiniteDifferences.check(sd, ph, TrainingLoss.LOSS, 2, 3);
    System.out.println("loss gradient check: " + r.checked() + " entries, " + r.failures().size() + " failures");
    assertTrue(r.failures().isEmpty(), String.join("\n", r.failures()));
  }
}

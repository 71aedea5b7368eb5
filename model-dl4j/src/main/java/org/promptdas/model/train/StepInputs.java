package org.promptdas.model.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.labels.Point;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.loss.TrainingLoss;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.PromptPoints;
import org.promptdas.model.train.TrainingTargets.Row;

/**
 * The placeholders of a training step's graph (the network's inputs and {@link TrainingLoss}'s
 * targets and weights) from its rows: prompts padded to the graph's slots, each row's contrastive
 * queries and background points padded to fixed counts with weights that mark the real ones.
 * Stateless, thread-safe.
 */
final class StepInputs {
  private StepInputs() {}

  /**
   * @param n the crop size in px
   * @param slots prompt slots of the graph
   * @param queries contrastive query slots (0: the graph has no contrastive loss)
   * @param backgrounds contrastive background slots
   */
  static Map<String, INDArray> of(List<Row> batch, int n, int slots, int queries, int backgrounds) {
    int b = batch.size();
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(PromptDasGraph.IMAGE, PromptDasModel.normalise(batch.stream().map(Row::image).toList(), n));
    List<List<Point>> extras = new ArrayList<>();
    INDArray promptW = Nd4j.zeros(DataType.FLOAT, b, slots);
    INDArray queryW = Nd4j.zeros(DataType.FLOAT, b, Math.max(1, queries));
    INDArray bgW = Nd4j.zeros(DataType.FLOAT, b, Math.max(1, backgrounds));
    for (int i = 0; i < b; i++) {
      Row r = batch.get(i);
      List<Point> e = new ArrayList<>();
      for (int k = 0; k < queries; k++) {
        boolean real = k < r.queries().size();
        e.add(real ? r.queries().get(k) : new Point(0, 0));
        queryW.putScalar(i, k, real ? 1 : 0);
      }
      for (int k = 0; k < backgrounds; k++) {
        boolean real = k < r.backgrounds().size();
        e.add(real ? r.backgrounds().get(k) : new Point(0, 0));
        bgW.putScalar(i, k, real ? 1 : 0);
      }
      extras.add(e);
      for (int k = 0; k < r.sparsePrompts(); k++) {
        promptW.putScalar(i, k, 1);
      }
    }
    PromptPoints.put(ph, batch.stream().map(Row::prompts).toList(), slots, extras, queries + backgrounds,
        DataType.FLOAT);
    ph.put(TrainingLoss.SEG_TARGET, stack(batch.stream().map(Row::segTarget).toList(), b, n));
    ph.put(TrainingLoss.SEG_WEIGHT, stack(batch.stream().map(Row::segWeight).toList(), b, n));
    ph.put(TrainingLoss.DET_TARGET, stack(batch.stream().map(Row::density).toList(), b, n).reshape(b, 1, n, n));
    INDArray detW = Nd4j.zeros(DataType.FLOAT, b);
    for (int i = 0; i < b; i++) {
      detW.putScalar(i, batch.get(i).detSupervised() ? 1 : 0);
    }
    ph.put(TrainingLoss.DET_WEIGHT, detW);
    if (queries > 0) {
      ph.put(TrainingLoss.PROMPT_WEIGHT, promptW);
      ph.put(TrainingLoss.QUERY_WEIGHT, queryW);
      ph.put(TrainingLoss.BACKGROUND_WEIGHT, bgW);
    }
    return ph;
  }

  /**
   * The denominators of {@link TrainingLoss}'s losses for the whole batch, as the scalar
   * placeholders of graphs that each hold a shard of it ({@link TrainingLoss.Normalisers#GIVEN}):
   * the weighted pixel count, the supervised density pixel count (each plus 1e-6, as in the graph)
   * and, for a graph with the contrastive loss ({@code queries > 0}, as in {@link #of}), the batch
   * size.
   */
  static Map<String, INDArray> normalisers(List<Row> batch, int n, int queries) {
    double weighted = 0;
    int supervised = 0;
    for (Row r : batch) {
      for (float w : r.segWeight()) {
        weighted += w;
      }
      supervised += r.detSupervised() ? 1 : 0;
    }
    Map<String, INDArray> norms = new HashMap<>();
    norms.put(TrainingLoss.SEG_NORM, Nd4j.scalar((float) (weighted + 1e-6)));
    norms.put(TrainingLoss.DET_NORM, Nd4j.scalar((float) ((double) supervised * n * n + 1e-6)));
    if (queries > 0) {
      norms.put(TrainingLoss.PCL_NORM, Nd4j.scalar((float) batch.size()));
    }
    return norms;
  }

  private static INDArray stack(List<float[]> maps, int b, int n) {
    INDArray out = Nd4j.create(DataType.FLOAT, b, n, n);
    for (int i = 0; i < b; i++) {
      out.slice(i).assign(Nd4j.create(maps.get(i), new long[] {n, n}, 'c'));
    }
    return out;
  }
}

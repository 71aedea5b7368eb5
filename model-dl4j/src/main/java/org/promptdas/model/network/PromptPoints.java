package org.promptdas.model.network;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.labels.Point;

/**
 * The prompt placeholders of a graph built for {@code slots} prompt slots and {@code e} extra
 * tokens: each crop's prompts padded to the slot count (padding is masked out, {@link TokenMasks}),
 * then its extra (contrastive) points, as pixel (x, y) in {@link PromptDasGraph#POINTS}, and the two
 * attention masks. The one packing of inference and training. Stateless, thread-safe.
 */
public final class PromptPoints {
  private PromptPoints() {}

  /**
   * Puts {@link PromptDasGraph#POINTS} (when the graph has any point token),
   * {@link PromptDasGraph#SELF_MASK} and {@link PromptDasGraph#KEY_MASK} into {@code in}.
   *
   * @param prompts per crop, at most {@code slots} prompt points
   * @param extras per crop, exactly {@code e} extra points, or null when {@code e} is 0
   */
  public static void put(Map<String, INDArray> in, List<List<Point>> prompts, int slots,
      List<List<Point>> extras, int e, DataType type) {
    int b = prompts.size();
    if (slots + e > 0) {
      INDArray pts = Nd4j.zeros(type, b, slots + e, 2);
      for (int i = 0; i < b; i++) {
        List<Point> all = new ArrayList<>(prompts.get(i));
        if (all.size() > slots || (e > 0 && extras.get(i).size() != e)) {
          throw new IllegalArgumentException("crop " + i + ": " + all.size() + " prompts for " + slots
              + " slots, or not " + e + " extra points");
        }
        while (all.size() < slots) {
          all.add(new Point(0, 0));
        }
        if (e > 0) {
          all.addAll(extras.get(i));
        }
        for (int k = 0; k < slots + e; k++) {
          pts.putScalar(new long[] {i, k, 0}, all.get(k).x());
          pts.putScalar(new long[] {i, k, 1}, all.get(k).y());
        }
      }
      in.put(PromptDasGraph.POINTS, pts);
    }
    int[] valid = prompts.stream().mapToInt(List::size).toArray();
    in.put(PromptDasGraph.SELF_MASK, TokenMasks.self(valid, slots, e, type));
    in.put(PromptDasGraph.KEY_MASK, TokenMasks.keys(valid, slots, e, type));
  }
}

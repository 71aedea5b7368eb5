package org.promptdas.model.infer;

import java.util.ArrayList;
import java.util.List;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Peaks;
import org.promptdas.core.labels.Point;
import org.promptdas.model.PromptDasModel;

/**
 * Automatic prompts from the model itself, for crops that come without (enough) prompts: a first
 * forward pass with the given prompts, then every peak of its density map (5x5 maxima at or above
 * the threshold, as the authors detect points at 125/255) is added as a prompt, and a second pass
 * with the given and the detected prompts gives the result. The paper uses the detection head this
 * way for training prompts; at test time it goes beyond the paper, so results with it are reported
 * apart from the protocol's. Costs two forward passes. Immutable; thread-safe as far as the model is.
 *
 * <pre>{@code
 * PromptDasModel.Prediction p = new SelfPrompting(SelfPrompting.AUTHORS_THRESHOLD)
 *     .predict(model, crops, List.of(List.of(), List.of()));
 * }</pre>
 */
public final class SelfPrompting {
  /** Density threshold of a detected point: the authors' 125 of 255. */
  public static final float AUTHORS_THRESHOLD = 125f / 255;
  /** Max-filter window of a detected point (the authors' for prompts). */
  static final int PEAK_WINDOW = 5;
  /** Detected prompts per crop at most. */
  public static final int MAX_PROMPTS = 16;
  /** Given prompts closer than this (in x and y, px) to a detected one make it redundant. */
  static final int NEAR = 2;

  private final float threshold;

  /** Detects points whose density is at or above {@code threshold}, in (0, 1]. */
  public SelfPrompting(float threshold) {
    if (!(threshold > 0 && threshold <= 1)) {
      throw new IllegalArgumentException("peak threshold must be in (0, 1], got " + threshold);
    }
    this.threshold = threshold;
  }

  /** Predicts {@code crops} with their {@code given} prompts plus the ones the model detects. */
  public PromptDasModel.Prediction predict(PromptDasModel model, List<IntImage> crops, List<List<Point>> given) {
    PromptDasModel.Prediction first = model.predict(crops, given);
    List<List<Point>> prompts = new ArrayList<>();
    for (int i = 0; i < crops.size(); i++) {
      prompts.add(prompts(first.density(i), crops.get(i).width(), given.get(i)));
    }
    first.close();
    return model.predict(crops, prompts);
  }

  /**
   * The given prompts followed by the peaks of {@code density} ([n * n], row-major) not within
   * {@value #NEAR} px of a given one, at most {@link #MAX_PROMPTS} detected.
   */
  List<Point> prompts(float[] density, int n, List<Point> given) {
    List<Point> out = new ArrayList<>(given);
    for (Peaks.Peak p : Peaks.find(density, n, n, threshold, PEAK_WINDOW, MAX_PROMPTS)) {
      if (given.stream().noneMatch(g -> near(g, p.point()))) {
        out.add(p.point());
      }
    }
    return out;
  }

  private static boolean near(Point a, Point b) {
    return Math.abs(a.x() - b.x()) <= NEAR && Math.abs(a.y() - b.y()) <= NEAR;
  }
}

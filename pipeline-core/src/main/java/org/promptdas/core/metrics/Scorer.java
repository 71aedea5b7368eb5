package org.promptdas.core.metrics;

import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Components;
import org.promptdas.core.labels.ConnectedComponents;
import org.promptdas.core.labels.Connectivity;
import org.promptdas.core.labels.Instances;

/**
 * Scores a predicted mask against ground truth under the evaluation protocol of the paper:
 * non-zero prediction pixels are foreground; predicted 8-connected components of at most
 * {@code minSize} pixels are removed; then per slice
 * <ul>
 *   <li>Dice = 2|T&#8745;P| / (|T| + |P|) and Jaccard = |T&#8745;P| / |T&#8746;P| on pixels;</li>
 *   <li>AJI (HoVer-Net): each ground-truth instance pairs with its highest-IoU prediction
 *       (predictions may be reused; first prediction on ties); the union adds unpaired ground
 *       truth and never-used predictions;</li>
 *   <li>PQ: pairs with IoU &gt; 0.5 match, DQ = TP / (TP + FP/2 + FN/2), SQ = sum IoU / TP,
 *       PQ = DQ x SQ.</li>
 * </ul>
 * The arithmetic follows {@code metrics_ref.py} to the last term (its 1e-6 guards included), so
 * the two agree to 1e-9. Cost: three passes over the pixels and a sort of the overlapping pairs;
 * no loop over instance pairs. Thread-safe (immutable settings).
 */
public final class Scorer implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private final Protocol protocol;
  private final int minSize;

  /** @param minSize predicted components of at most this many pixels are removed (paper: 15). */
  public Scorer(Protocol protocol, int minSize) {
    if (minSize < 0) {
      throw new IllegalArgumentException("minimum component size must be >= 0, got " + minSize);
    }
    this.protocol = protocol;
    this.minSize = minSize;
  }

  /** The scores plus the masks they were computed on (for overlays). */
  public record Evaluation(SliceScores scores, IntImage predMask, IntImage gtMask) {}

  public SliceScores score(IntImage pred, IntImage gt) {
    return evaluate(pred, gt, "slice").scores();
  }

  /** Scores one slice; {@code name} is used in the error for mismatched sizes. */
  public Evaluation evaluate(IntImage pred, IntImage gt, String name) {
    if (!pred.sameSize(gt)) {
      throw new BadInput(name + ": prediction is " + pred.width() + "x" + pred.height()
          + " but ground truth is " + gt.width() + "x" + gt.height());
    }
    Components predCc = cleanedComponents(pred);
    IntImage predMask = predCc.labels().binarize();
    IntImage gtMask = gt.binarize();
    Components gtInst = protocol == Protocol.BINARY
        ? ConnectedComponents.label(gtMask, Connectivity.EIGHT)
        : Instances.ofIds(gt);
    return new Evaluation(scores(predMask, gtMask, Contingency.of(gtInst, predCc)), predMask, gtMask);
  }

  /** 8-connected components of the prediction with the small ones removed, renumbered 1..n in order. */
  private Components cleanedComponents(IntImage pred) {
    Components all = ConnectedComponents.label(pred, Connectivity.EIGHT);
    if (minSize == 0) {
      return all;
    }
    int[] newId = new int[all.count() + 1];
    int n = 0;
    for (int l = 1; l <= all.count(); l++) {
      newId[l] = all.area(l) > minSize ? ++n : 0;
    }
    int[] src = all.labels().data();
    int[] out = new int[src.length];
    for (int i = 0; i < src.length; i++) {
      out[i] = newId[src[i]];
    }
    return Components.ofCompact(new IntImage(pred.width(), pred.height(), out), n);
  }

  private static SliceScores scores(IntImage predMask, IntImage gtMask, Contingency c) {
    long t = 0;
    long p = 0;
    long both = 0;
    int[] pm = predMask.data();
    int[] gm = gtMask.data();
    for (int i = 0; i < pm.length; i++) {
      t += gm[i];
      p += pm[i];
      both += gm[i] & pm[i];
    }
    if (t + p == 0) {
      return SliceScores.UNDEFINED;
    }
    double dice = 2.0 * both / (t + p);
    double jaccard = (double) both / (t + p - both);
    double[] pq = panoptic(c);
    return new SliceScores(dice, jaccard, aji(c), pq[0], pq[1], pq[2]);
  }

  static double aji(Contingency c) {
    int ng = c.gtCount();
    int np = c.predCount();
    if (ng == 0 && np == 0) {
      return Double.NaN;
    }
    if (ng == 0 || np == 0) {
      return 0.0;
    }
    boolean[] used = new boolean[np + 1];
    long totalInter = 0;
    long totalUnion = 0;
    int k = 0;
    for (int g = 1; g <= ng; g++) {
      double bestIou = 0;
      int best = -1;
      for (; k < c.pairs() && c.pairGt(k) == g; k++) { // pairs sorted by (gt, pred)
        double iou = c.pairIntersection(k) / ((double) c.pairUnion(k) + 1.0e-6);
        if (iou > bestIou) {
          bestIou = iou;
          best = k;
        }
      }
      if (best < 0) {
        totalUnion += c.gtArea(g);
      } else {
        used[c.pairPred(best)] = true;
        totalInter += c.pairIntersection(best);
        totalUnion += c.pairUnion(best);
      }
    }
    for (int j = 1; j <= np; j++) {
      if (!used[j]) {
        totalUnion += c.predArea(j);
      }
    }
    return (double) totalInter / totalUnion;
  }

  /** {pq, dq, sq}. */
  static double[] panoptic(Contingency c) {
    int ng = c.gtCount();
    int np = c.predCount();
    if (ng == 0 && np == 0) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    int tp = 0;
    double iouSum = 0;
    for (int k = 0; k < c.pairs(); k++) {
      double iou = (double) c.pairIntersection(k) / Math.max(c.pairUnion(k), 1);
      if (iou > 0.5) {
        tp++;
        iouSum += iou;
      }
    }
    int fp = np - tp;
    int fn = ng - tp;
    double dq = tp / (tp + 0.5 * fp + 0.5 * fn);
    double sq = iouSum / (tp + 1.0e-6);
    return new double[] {dq * sq, dq, sq};
  }
}

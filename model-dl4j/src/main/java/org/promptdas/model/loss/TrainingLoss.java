package org.promptdas.model.loss;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;

/**
 * Adds the Prompt-DAS training loss to a graph from {@link PromptDasGraph#build} (written with
 * plain ops, since M2.1's built-in loss ops ignore an upstream scale):
 * <ul>
 *   <li>{@value #SEG_LOSS}: binary cross-entropy of the full-size mask logits against
 *       {@value #SEG_TARGET} [b, s, s], averaged over the pixels where {@value #SEG_WEIGHT} is 1
 *       (ground truth, or the teacher's confident pseudo-labels; 0 ignores a pixel);</li>
 *   <li>{@value #DET_LOSS}: mean squared error of the density map against {@value #DET_TARGET}
 *       [b, 1, s, s] over the samples whose {@value #DET_WEIGHT} [b] is 1;</li>
 *   <li>{@value #PCL_LOSS}: eq. 3 of the paper on the contrastive embeddings of the extra tokens:
 *       the first {@code queries} extra tokens are the foreground queries z_i, the next
 *       {@code backgrounds} the background points mu_k^b, mu^f is the mean embedding of the prompt
 *       tokens weighted by {@value #PROMPT_WEIGHT} [b, p] (the sparse points),
 *       {@value #QUERY_WEIGHT} [b, q] and {@value #BACKGROUND_WEIGHT} [b, k] mark valid entries;
 *       -sum_i log(e^{mu^f.z_i/tau} / (e^{mu^f.z_i/tau} + sum_k e^{mu_k.z_i/tau})), summed over
 *       queries and averaged over the batch;</li>
 *   <li>{@value #LOSS} = the weighted sum, set as the graph's loss.</li>
 * </ul>
 * With {@link Normalisers#GIVEN} the three denominators (the weighted pixel count, the supervised
 * density pixel count and the batch size) are the scalar placeholders {@value #SEG_NORM},
 * {@value #DET_NORM} and {@value #PCL_NORM} instead of sums over the graph's own rows, so that the
 * losses of the shards of a batch ({@code Engine.concurrently}) add up to the whole batch's loss and
 * their gradients to its gradient.
 */
public final class TrainingLoss {
  public static final String SEG_TARGET = "seg_target";
  public static final String SEG_WEIGHT = "seg_weight";
  public static final String DET_TARGET = "det_target";
  public static final String DET_WEIGHT = "det_weight";
  public static final String PROMPT_WEIGHT = "pcl_prompt_weight";
  public static final String QUERY_WEIGHT = "pcl_query_weight";
  public static final String BACKGROUND_WEIGHT = "pcl_background_weight";
  public static final String SEG_LOSS = "loss_seg";
  public static final String DET_LOSS = "loss_det";
  public static final String PCL_LOSS = "loss_pcl";
  public static final String LOSS = "loss";
  public static final String SEG_NORM = "loss_seg_norm";
  public static final String DET_NORM = "loss_det_norm";
  public static final String PCL_NORM = "loss_pcl_norm";

  /** Where the losses' denominators come from. */
  public enum Normalisers {
    /** Sums over the graph's own rows: the graph holds the whole batch. */
    OWN_ROWS,
    /** Placeholders: the graph holds one shard of a batch whose denominators are given. */
    GIVEN
  }

  private TrainingLoss() {}

  public static void attach(SameDiff sd, NetworkConfig c, int b, int prompts, int queries,
      int backgrounds, LossWeights w, DataType type) {
    attach(sd, c, b, prompts, queries, backgrounds, w, type, Normalisers.OWN_ROWS);
  }

  /** {@link #attach(SameDiff, NetworkConfig, int, int, int, int, LossWeights, DataType)} with the given denominators. */
  public static void attach(SameDiff sd, NetworkConfig c, int b, int prompts, int queries,
      int backgrounds, LossWeights w, DataType type, Normalisers norms) {
    boolean given = norms == Normalisers.GIVEN;
    int s = c.imageSize();
    SDVariable x = sd.getVariable(PromptDasGraph.SEG_LOGITS_FULL);
    SDVariable y = sd.placeHolder(SEG_TARGET, type, b, s, s);
    SDVariable m = sd.placeHolder(SEG_WEIGHT, type, b, s, s);
    // stable BCE with logits: max(x, 0) - x y + log(1 + exp(-|x|))
    SDVariable bce = sd.nn.relu(x, 0).sub(x.mul(y)).add(sd.math.log1p(sd.math.exp(sd.math.abs(x).neg())));
    SDVariable seg = sd.sum(bce.mul(m)).div(given ? sd.placeHolder(SEG_NORM, type) : sd.sum(m).add(1e-6));
    sd.updateVariableNameAndReference(seg, SEG_LOSS);

    SDVariable det = sd.getVariable(PromptDasGraph.DET);
    SDVariable dt = sd.placeHolder(DET_TARGET, type, b, 1, s, s);
    SDVariable dw = sd.placeHolder(DET_WEIGHT, type, b);
    SDVariable sq = sd.math.square(det.sub(dt)).mul(sd.reshape(dw, b, 1, 1, 1));
    SDVariable detLoss = sd.sum(sq).div(given ? sd.placeHolder(DET_NORM, type)
        : sd.sum(dw).mul((double) s * s).add(1e-6));
    sd.updateVariableNameAndReference(detLoss, DET_LOSS);

    SDVariable total = seg.mul(w.segmentation()).add(detLoss.mul(w.detection()));
    if (queries > 0 && backgrounds > 0 && w.contrastive() > 0) {
      SDVariable pcl = contrastive(sd, c, b, prompts, queries, backgrounds, w.temperature(), type,
          given ? sd.placeHolder(PCL_NORM, type) : null);
      total = total.add(pcl.mul(w.contrastive()));
    }
    sd.updateVariableNameAndReference(total, LOSS);
    sd.setLossVariables(LOSS);
  }

  /** PCL over b rows, summed over queries and divided by {@code rows} (b when null). */
  private static SDVariable contrastive(SameDiff sd, NetworkConfig c, int b, int p, int q, int k,
      double tau, DataType type, SDVariable rows) {
    int d = c.embedDim();
    SDVariable z = sd.getVariable(PromptDasGraph.CONTRAST);                       // [b, t, d]
    SDVariable promptW = sd.placeHolder(PROMPT_WEIGHT, type, b, p);
    SDVariable queryW = sd.placeHolder(QUERY_WEIGHT, type, b, q);
    SDVariable bgW = sd.placeHolder(BACKGROUND_WEIGHT, type, b, k);
    SDVariable prompts = sd.slice(z, new int[] {0, 1, 0}, new int[] {b, p, d});
    SDVariable qz = sd.slice(z, new int[] {0, 1 + p, 0}, new int[] {b, q, d});
    SDVariable bz = sd.slice(z, new int[] {0, 1 + p + q, 0}, new int[] {b, k, d});
    SDVariable muF = sd.mmul(sd.reshape(promptW, b, 1, p), prompts)              // [b, 1, d]
        .div(sd.reshape(sd.sum(promptW, true, 1), b, 1, 1).add(1e-6));
    SDVariable pos = sd.mmul(qz, muF, false, true, false).div(tau);                // [b, q, 1]
    SDVariable neg = sd.mmul(qz, bz, false, true, false).div(tau)                  // [b, q, k]
        .add(sd.reshape(bgW.rsub(1.0).mul(-1e9), b, 1, k));
    SDVariable all = sd.concat(2, pos, neg);                                       // [b, q, 1 + k]
    SDVariable max = sd.max(all, true, 2);
    SDVariable lse = sd.math.log(sd.sum(sd.math.exp(all.sub(max)), true, 2)).add(max);
    SDVariable perQuery = sd.reshape(lse.sub(pos), b, q).mul(queryW);
    SDVariable pcl = rows == null ? sd.sum(perQuery).div(b) : sd.sum(perQuery).div(rows);
    sd.updateVariableNameAndReference(pcl, PCL_LOSS);
    return pcl;
  }
}

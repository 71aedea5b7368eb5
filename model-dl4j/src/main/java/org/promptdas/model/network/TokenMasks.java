package org.promptdas.model.network;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The additive attention masks of the decoder (0 = may attend, {@link #BLOCKED} = may not) for
 * tokens laid out as [mask token, prompt slots 0..p-1, extra tokens 0..e-1], where sample i uses
 * only its first {@code valid[i]} prompt slots (the rest is padding):
 * <ul>
 *   <li>self-attention: the mask token and every prompt slot see the mask token and the valid
 *       prompts; an extra token sees the mask token and itself (extra tokens and prompts never see
 *       each other, after DN-DETR, so the segmentation does not depend on the extra tokens);</li>
 *   <li>image-to-token attention: image tokens see the mask token and the valid prompts.</li>
 * </ul>
 * Padding slots are never seen, so outputs do not depend on padding.
 */
public final class TokenMasks {
  /** Added to a blocked score before the softmax (exp underflows to exactly 0). */
  public static final double BLOCKED = -1e9;

  private TokenMasks() {}

  public static INDArray self(int[] valid, int prompts, int extras, DataType type) {
    int b = valid.length;
    int t = 1 + prompts + extras;
    INDArray m = Nd4j.zeros(type, b, 1, t, t).assign(BLOCKED);
    for (int i = 0; i < b; i++) {
      for (int q = 0; q < t; q++) {
        m.putScalar(new long[] {i, 0, q, 0}, 0);
        if (q > prompts) {
          m.putScalar(new long[] {i, 0, q, q}, 0);
        } else {
          for (int j = 1; j <= valid[i]; j++) {
            m.putScalar(new long[] {i, 0, q, j}, 0);
          }
        }
      }
    }
    return m;
  }

  public static INDArray keys(int[] valid, int prompts, int extras, DataType type) {
    int b = valid.length;
    int t = 1 + prompts + extras;
    INDArray m = Nd4j.zeros(type, b, 1, 1, t).assign(BLOCKED);
    for (int i = 0; i < b; i++) {
      for (int j = 0; j <= valid[i]; j++) {
        m.putScalar(new long[] {i, 0, 0, j}, 0);
      }
    }
    return m;
  }
}

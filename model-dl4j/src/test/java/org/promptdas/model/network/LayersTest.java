package org.promptdas.model.network;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The two ways {@link Layers} runs attention give the same values and gradients. */
class LayersTest {
  @Test
  void headByHeadAttentionEqualsTheBatchedProduct() {
    int b = 2;
    int heads = 3;
    int nq = 20;
    int nk = 12;
    int hd = 4;
    Nd4j.getRandom().setSeed(11);
    Map<String, INDArray> matrix = run(true, b, heads, nq, nk, hd);
    Map<String, INDArray> batched = run(false, b, heads, nq, nk, hd);
    for (String name : List.of("out", "q", "k", "v")) {
      INDArray want = batched.get(name);
      double err = matrix.get(name).sub(want).norm2Number().doubleValue()
          / want.norm2Number().doubleValue();
      assertEquals(0, err, 1e-12, name + " differs (relative L2)");
    }
  }

  /** Output and the gradients of sum(out * r) for fixed random inputs, in double precision. */
  private static Map<String, INDArray> run(boolean matrix, int b, int heads, int nq, int nk, int hd) {
    Nd4j.getRandom().setSeed(5);
    SameDiff sd = SameDiff.create();
    SDVariable q = sd.var("q", Nd4j.randn(DataType.DOUBLE, b, heads, nq, hd));
    SDVariable k = sd.var("k", Nd4j.randn(DataType.DOUBLE, b, heads, nk, hd));
    SDVariable v = sd.var("v", Nd4j.randn(DataType.DOUBLE, b, heads, nk, hd));
    INDArray r = Nd4j.randn(DataType.DOUBLE, (long) b * nq, (long) heads * hd);
    Layers l = new Layers(sd, null);
    SDVariable out = matrix ? l.matrixHeads(q, k, v, b, nq, nk, hd, heads)
        : l.batchedHeads(q, k, v, b, nq, hd, heads, null);
    sd.setLossVariables(sd.sum(out.mul(sd.constant(r))).name());
    Map<String, INDArray> got = sd.calculateGradients(Map.of(), "q", "k", "v");
    got.put("out", out.eval());
    return got;
  }
}

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

/** The two ways {@link Layers} runs self-attention give the same values and gradients. */
class LayersTest {
  @Test
  void headByHeadAttentionOnPackedProjectionsEqualsTheBatchedProduct() {
    int b = 2;
    int heads = 3;
    int n = 20;
    int hd = 4;
    Map<String, INDArray> packed = run(true, b, heads, n, hd);
    Map<String, INDArray> batched = run(false, b, heads, n, hd);
    for (String name : List.of("out", "qkv")) {
      INDArray want = batched.get(name);
      double err = packed.get(name).sub(want).norm2Number().doubleValue()
          / want.norm2Number().doubleValue();
      assertEquals(0, err, 1e-12, name + " differs (relative L2)");
    }
  }

  /** Output and the gradient of sum(out * r) for fixed random inputs, in double precision. */
  private static Map<String, INDArray> run(boolean packed, int b, int heads, int n, int hd) {
    Nd4j.getRandom().setSeed(5);
    int dim = heads * hd;
    SameDiff sd = SameDiff.create();
    SDVariable qkv = sd.var("qkv", Nd4j.randn(DataType.DOUBLE, (long) b * n, 3L * dim));
    INDArray r = Nd4j.randn(DataType.DOUBLE, (long) b * n, dim);
    Layers l = new Layers(sd, null);
    SDVariable out = packed ? l.packedHeads(qkv, b, n, dim, heads) : l.unpackedHeads(qkv, b, n, dim, heads);
    sd.setLossVariables(sd.sum(out.mul(sd.constant(r))).name());
    Map<String, INDArray> got = sd.calculateGradients(Map.of(), "qkv");
    got.put("out", out.eval());
    return got;
  }
}

package org.promptdas.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link AdamW} against PyTorch's AdamW written out element by element in double precision. */
class AdamWTest {
  @Test
  void followsTheAdamWFormulaOverSeveralSteps() {
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-8;
    double wd = 0.01;
    double lr = 1e-3;
    Random rnd = new Random(4);
    // parameters of different sizes (the scratch buffer is shared) and one larger than the first
    long[][] shapes = {{3, 4}, {7}, {2, 3, 5}};
    Map<String, INDArray> params = new LinkedHashMap<>();
    double[][] ref = new double[shapes.length][];
    for (int i = 0; i < shapes.length; i++) {
      INDArray p = Nd4j.rand(DataType.FLOAT, shapes[i]).subi(0.5);
      params.put("p" + i, p);
      ref[i] = p.dup().castTo(DataType.DOUBLE).data().asDouble();
    }
    double[][] m = new double[shapes.length][];
    double[][] v = new double[shapes.length][];
    for (int i = 0; i < shapes.length; i++) {
      m[i] = new double[ref[i].length];
      v[i] = new double[ref[i].length];
    }
    AdamW opt = new AdamW(b1, b2, eps, wd, name -> true);
    for (int step = 1; step <= 5; step++) {
      Map<String, INDArray> grads = new LinkedHashMap<>();
      for (int i = 0; i < shapes.length; i++) {
        double[] g = new double[ref[i].length];
        for (int j = 0; j < g.length; j++) {
          g[j] = rnd.nextGaussian() * (j % 3 == 0 ? 1e-9 : 1);   // some as small as eps
        }
        grads.put("p" + i, Nd4j.create(g, shapes[i], DataType.FLOAT));
        double[] gf = grads.get("p" + i).castTo(DataType.DOUBLE).data().asDouble();
        for (int j = 0; j < g.length; j++) {
          m[i][j] = b1 * m[i][j] + (1 - b1) * gf[j];
          v[i][j] = b2 * v[i][j] + (1 - b2) * gf[j] * gf[j];
          double mh = m[i][j] / (1 - Math.pow(b1, step));
          double vh = v[i][j] / (1 - Math.pow(b2, step));
          ref[i][j] -= lr * (mh / (Math.sqrt(vh) + eps) + wd * ref[i][j]);
        }
      }
      opt.update(params, grads, lr);
    }
    assertEquals(5, opt.steps());
    for (int i = 0; i < shapes.length; i++) {
      double[] got = params.get("p" + i).castTo(DataType.DOUBLE).data().asDouble();
      for (int j = 0; j < got.length; j++) {
        assertEquals(ref[i][j], got[j], 1e-6, "p" + i + "[" + j + "]");
      }
    }
  }
}

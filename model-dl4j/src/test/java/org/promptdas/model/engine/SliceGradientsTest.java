package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.shape.bp.SliceBp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link SliceGradients} gives the gradient SameDiff's {@code slice_bp}s and additions give, in
 * double precision, where slices tile an array (an uneven grid, rows out of order), and leaves
 * the graph alone where they do not (a gap, an overlap), where the array is not recorded, and
 * where its gradient also sums other terms into the same chain (x used whole as well).
 */
class SliceGradientsTest {
  /**
   * Slices of x [4, 6] as "row,rows,col,cols" separated by ';'; whether x is recorded, whether x
   * is also used whole, and whether the rewrite applies.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "0,1,0,2; 0,1,2,1; 0,1,3,3; 1,3,0,2; 1,3,2,1; 1,3,3,3 | true  | false | true",
      "0,4,0,2; 0,4,2,4                                     | true  | true  | false",
      "0,1,0,6; 2,2,0,6; 1,1,0,6                            | true  | false | true",
      "0,4,0,2; 0,4,3,3                                     | true  | false | false",
      "0,4,0,3; 0,4,2,4                                     | true  | false | false",
      "0,2,0,6; 1,3,0,6                                     | true  | false | false",
      "0,4,0,2; 0,4,2,4                                     | false | false | false"})
  void equalsSliceBpWhereSlicesTileTheArray(String slices, boolean recorded, boolean usedWhole,
      boolean rewritten) {
    INDArray want = gradient(slices, recorded, usedWhole, false, false);
    INDArray got = gradient(slices, recorded, usedWhole, true, rewritten);
    double err = got.sub(want).norm2Number().doubleValue() / want.norm2Number().doubleValue();
    assertEquals(0, err, 1e-12, "w's gradient differs (relative L2)");
  }

  /**
   * The gradient of sum_i sum(tanh(slice_i(x)) * r_i) (+ sum(x * x) when {@code usedWhole}) for
   * x = 1.5 w, with the rewrite run when {@code apply}, checking that it changes the graph exactly
   * when {@code rewritten}.
   */
  private static INDArray gradient(String slices, boolean recorded, boolean usedWhole, boolean apply,
      boolean rewritten) {
    Nd4j.getRandom().setSeed(11);
    SameDiff sd = SameDiff.create();
    SDVariable w = sd.var("w", Nd4j.randn(DataType.DOUBLE, 4, 6));
    SDVariable x = w.mul(1.5);
    if (recorded) {
      SliceGradients.tiled(sd, x, 4, 6);
    }
    SDVariable loss = usedWhole ? sd.sum(x.mul(x)) : null;
    String[] parts = slices.split(";");
    for (String p : parts) {
      String[] a = p.trim().split(",");
      int[] begin = {Integer.parseInt(a[0]), Integer.parseInt(a[2])};
      int[] size = {Integer.parseInt(a[1]), Integer.parseInt(a[3])};
      SDVariable term = sd.sum(sd.math.tanh(sd.slice(x, begin, size))
          .mul(sd.constant(Nd4j.randn(DataType.DOUBLE, size[0], size[1]))));
      loss = loss == null ? term : loss.add(term);
    }
    sd.setLossVariables(loss.name());
    sd.createGradFunction();
    SameDiff grad = sd.getFunction(SessionArrays.GRAD_FUNCTION);
    int before = sliceBps(grad);
    assertEquals(parts.length, before);
    if (apply) {
      assertEquals(rewritten ? 1 : 0, SliceGradients.rewrite(grad));
      assertEquals(rewritten ? 0 : before, sliceBps(grad));
    }
    return new SessionArrays().gradientsAndOutputs(sd, Map.of(), List.of(loss.name()), List.of("w"))
        .getGradients().get("w");
  }

  private static int sliceBps(SameDiff grad) {
    return (int) grad.getOps().values().stream().filter(op -> op.getOp() instanceof SliceBp).count();
  }
}

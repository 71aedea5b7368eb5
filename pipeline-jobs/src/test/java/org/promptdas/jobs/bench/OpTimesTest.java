package org.promptdas.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.reduce.TensorMmul;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.model.engine.Engine;

/**
 * {@link OpTimes} counts every op a run executes, the backward graph's included, sums to its
 * entries, forgets on reset, and prints the top entries plus one line for the rest; it counts the
 * products' FLOPs ({@link OpFlops}) as the shapes give them.
 */
class OpTimesTest {
  @Test
  void countsForwardAndBackwardOpsAndResets() {
    SameDiff sd = SameDiff.create();
    SDVariable w = sd.var("w", Nd4j.rand(DataType.FLOAT, 16, 8));
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, 4, 16);
    SDVariable h = sd.nn.tanh(sd.mmul(x.mmul(w), w, false, true, false));
    sd.setLossVariables(sd.sum("loss", h.mul(h)).name());
    sd.createGradFunction();
    OpTimes times = new OpTimes();
    assertEquals(sd, times.attach(sd));
    Engine engine = new Engine();
    Map<String, INDArray> in = Map.of("x", Nd4j.rand(DataType.FLOAT, 4, 16));

    engine.output(sd, in, "loss");
    engine.output(sd, in, "loss");
    Map<String, Long> calls = times.entries().stream()
        .collect(Collectors.toMap(OpTimes.Entry::op, OpTimes.Entry::calls));
    assertEquals(4L, calls.get("matmul"), "two products per run, two runs");
    assertEquals(2L, calls.get("tanh"));
    assertTrue(!calls.containsKey("tanh_bp"), "no backward op in inference: " + calls);
    double sum = times.entries().stream().mapToDouble(OpTimes.Entry::seconds).sum();
    assertEquals(times.seconds(), sum, 1e-9);
    assertTrue(times.seconds() > 0);

    times.reset();
    assertEquals(0, times.seconds());
    engine.gradientsAndOutputs(sd, in, List.of("loss"), List.of("w"));
    calls = times.entries().stream().collect(Collectors.toMap(OpTimes.Entry::op, OpTimes.Entry::calls));
    assertEquals(1L, calls.get("tanh"), "the forward ops of the backward graph: " + calls);
    assertEquals(1L, calls.get("tanh_bp"), "the backward ops: " + calls);

    List<OpTimes.Entry> sorted = times.entries();
    for (int i = 1; i < sorted.size(); i++) {
      assertTrue(sorted.get(i - 1).seconds() >= sorted.get(i).seconds(), "longest first");
    }
    String table = times.table(2, 1);
    assertEquals(3, table.lines().count(), table);
    assertTrue(table.lines().toList().get(2).contains("(" + (sorted.size() - 2) + " other ops)"), table);
    assertTrue(table.startsWith(String.format("    %-24s", sorted.get(0).op())), table);
  }

  @Test
  void countsProductFlopsFromShapes() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, 4, 16);
    SDVariable w = sd.var("w", Nd4j.rand(DataType.FLOAT, 16, 8));
    SDVariable v = sd.var("v", Nd4j.rand(DataType.FLOAT, 16, 8));
    SDVariable h = x.mmul(w);                                         // [4,16] x [16,8]: 2*4*8*16
    SDVariable g = sd.mmul(h, v, false, true, false);                 // [4,8] x [8,16]: 2*4*16*8
    SDVariable back = sd.mmul(g, x, true, false, false);              // [4,16]^T x [4,16]: 2*16*16*4
    SDVariable img = sd.placeHolder("img", DataType.FLOAT, 2, 5, 6, 3);
    SDVariable k = sd.var("k", Nd4j.rand(DataType.FLOAT, 3, 3, 3, 7)); // YXIO: 3x3, 3 -> 7 channels
    SDVariable conv = sd.cnn.conv2d(img, k, Conv2DConfig.builder().kH(3).kW(3).sH(1).sW(1).pH(1).pW(1).dH(1).dW(1)
        .dataFormat("NHWC").weightsFormat(WeightsFormat.YXIO).build());   // [2,5,6,7]: 2*420*27
    SDVariable sums = new TensorMmul(sd, img, img, new int[][] {{0, 1, 2}, {0, 1, 2}}).outputVariable(); // [3,3], 60 summed
    sd.setLossVariables(sd.sum(back).add(sd.sum(conv)).add("loss", sd.sum(sums)).name());
    sd.createGradFunction();
    OpTimes times = new OpTimes();
    times.attach(sd);
    Engine engine = new Engine();
    Map<String, INDArray> in = Map.of("x", Nd4j.rand(DataType.FLOAT, 4, 16), "img", Nd4j.rand(DataType.FLOAT, 2, 5, 6, 3));

    engine.output(sd, in, "loss");
    Map<String, Double> flops = times.entries().stream()
        .collect(Collectors.toMap(OpTimes.Entry::op, OpTimes.Entry::flops));
    assertEquals(2 * 2.0 * 4 * 8 * 16 + 2.0 * 16 * 16 * 4, flops.get("matmul"), 1e-9, flops.toString());
    assertEquals(2.0 * 2 * 5 * 6 * 7 * 27, flops.getOrDefault("conv2d", -1.0), 1e-9, flops.toString());
    assertEquals(2.0 * 3 * 3 * 60, flops.getOrDefault("tensordot", -1.0), 1e-6);
    assertEquals(0.0, flops.getOrDefault("reduce_sum", -1.0), "not a product");
    assertEquals(flops.values().stream().mapToDouble(Double::doubleValue).sum(), times.flops(), 1e-6);
    assertTrue(times.productSeconds() > 0 && times.productSeconds() <= times.seconds());
    assertTrue(times.table(10, 1).contains("GFLOP/s"), times.table(10, 1));

    times.reset();
    engine.gradientsAndOutputs(sd, in, List.of("loss"), List.of("w", "v", "k"));
    flops = times.entries().stream().collect(Collectors.toMap(OpTimes.Entry::op, OpTimes.Entry::flops));
    assertEquals(2 * 4.0 * 4 * 8 * 16 + 4.0 * 16 * 16 * 4, flops.get("matmul_bp"), 1e-9,
        "both operand gradients of each product");
  }
}

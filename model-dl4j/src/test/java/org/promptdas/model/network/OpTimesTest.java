package org.promptdas.model.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link OpTimes} counts every op a run executes, the backward graph's included, sums to its
 * entries, forgets on reset, and prints the top entries plus one line for the rest.
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
    SessionArrays arrays = new SessionArrays();
    Map<String, INDArray> in = Map.of("x", Nd4j.rand(DataType.FLOAT, 4, 16));

    arrays.output(sd, in, "loss");
    arrays.output(sd, in, "loss");
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
    arrays.gradientsAndOutputs(sd, in, List.of("loss"), List.of("w"));
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
}

package org.promptdas.model.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.shape.CreateView;
import org.nd4j.linalg.api.ops.impl.shape.Reshape;
import org.nd4j.linalg.api.ops.impl.shape.bp.SliceBp;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.train.Gradients;

/**
 * The two ways {@link Layers} runs self-attention give the same values and gradients, the packed
 * one also with its backward graph rewritten (slices: one crop tiles the transposed qkv by rows,
 * two crops by rows and columns; views: the score reshapes and their gradients', three runs over
 * one engine's cache).
 */
class LayersTest {
  private enum Path { BATCHED, PACKED, PACKED_REWRITTEN }

  /** The attention every case runs: 3 heads of 4 channels over 20 tokens per crop. */
  private static final int HEADS = 3;
  private static final int N = 20;
  private static final int DIM = HEADS * 4;

  /**
   * The forward-only packed attention, whose score reshapes are views, gives the batched product's
   * output in an {@link Engine} and refuses to run in SameDiff's own session.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void forwardOnlyPackedAttentionWithViewsEqualsTheBatchedProduct(int b) {
    INDArray want = run(Path.BATCHED, b).get("out");
    SameDiff sd = viewGraph(b);
    assertTrue(sd.getOps().values().stream().anyMatch(op -> op.getOp() instanceof CreateView), "views");
    assertTrue(Gradients.trainables(sd).isEmpty(), "the views' integer index variables are no weights");
    Engine engine = new Engine();
    for (int run = 0; run < 3; run++) { // later runs take buffers the first ones released
      INDArray got = engine.output(sd, Map.of(), "out").get("out");
      assertEquals(0, relative(got, want), 1e-12, "run " + run + ": out differs (relative L2)");
    }
    SameDiff fresh = viewGraph(b);
    assertThrows(PromptDasException.class, () -> fresh.output(Map.of(), "out"),
        "SameDiff's own memory manager would reuse buffers that views still read");
  }

  /** The forward-only packed attention on run()'s qkv, output "out". */
  private static SameDiff viewGraph(int b) {
    SameDiff sd = SameDiff.create();
    SDVariable qkvT = sd.constant("qkvT", qkv(b).transpose().dup());
    sd.updateVariableNameAndReference(new Layers(sd, null, Engine.forwardOps(sd)).packedHeads(qkvT, b, N, DIM, HEADS), "out");
    return sd;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void headByHeadAttentionOnPackedProjectionsEqualsTheBatchedProduct(int b) {
    Map<String, INDArray> batched = run(Path.BATCHED, b);
    for (Path p : List.of(Path.PACKED, Path.PACKED_REWRITTEN)) {
      Map<String, INDArray> packed = run(p, b);
      for (String name : List.of("out", "qkv")) {
        assertEquals(0, relative(packed.get(name), batched.get(name)), 1e-12,
            p + ": " + name + " differs (relative L2)");
      }
    }
  }

  /** Output and the gradient of sum(out * r) for fixed random inputs, in double precision. */
  private static Map<String, INDArray> run(Path path, int b) {
    SameDiff sd = SameDiff.create();
    SDVariable qkv = sd.var("qkv", qkv(b));
    INDArray r = Nd4j.randn(DataType.DOUBLE, (long) b * N, DIM);
    Layers l = new Layers(sd, null, Engine.trainingOps(sd));
    SDVariable out = path == Path.BATCHED ? l.unpackedHeads(qkv, b, N, DIM, HEADS)
        : l.packedHeads(sd.permute(qkv, 1, 0), b, N, DIM, HEADS);
    SDVariable loss = sd.sum(out.mul(sd.constant(r)));
    sd.setLossVariables(loss.name());
    if (path != Path.PACKED_REWRITTEN) {
      Map<String, INDArray> got = sd.calculateGradients(Map.of(), "qkv");
      got.put("out", out.eval());
      return got;
    }
    Map<String, Integer> rewritten = Engine.prepareGradients(sd, Engine.Backward.VIEWS);
    SameDiff grad = Engine.backwardGraph(sd);
    assertEquals(1, rewritten.get("slices"), "the transposed qkv's slices are one tiling");
    assertTrue(grad.getOps().values().stream().noneMatch(op -> op.getOp() instanceof SliceBp),
        "no slice_bp left");
    assertEquals(4 * b * HEADS, rewritten.get("views"), "two score reshapes per crop and head, and their gradients'");
    assertTrue(grad.getOps().values().stream().noneMatch(op -> op.getOp() instanceof Reshape),
        "no reshape left");
    Engine engine = new Engine();
    INDArray first = null;
    INDArray last = null;
    for (int run = 0; run < 3; run++) { // later runs take buffers the first ones released
      last = engine.gradientsAndOutputs(sd, Map.of(), List.of(out.name()), List.of("qkv")).getGradients().get("qkv");
      first = first == null ? last.dup() : first;
      assertEquals(first, last, "run " + run + " differs from run 0");
    }
    Map<String, INDArray> got = new HashMap<>(Map.of("qkv", last));
    got.put("out", out.eval());
    return got;
  }

  /**
   * A layer norm of 2^20 elements (from where training ops record broadcasts) with known rows
   * records its affine, whose rewritten gradients equal those of the unrecorded norm.
   */
  @Test
  void layerNormWithRecordedAffineHasTheSameGradients() {
    Map<String, INDArray> plain = layerNorm(false);
    Map<String, INDArray> recorded = layerNorm(true);
    for (String name : List.of("x", "n.weight", "n.bias")) {
      assertEquals(0, relative(recorded.get(name), plain.get(name)), 1e-12, name + " gradient differs (relative L2)");
    }
  }

  /** Gradients of sum(layerNorm(x) * r), x [4096, 256], in double, rows given when {@code recorded}. */
  private static Map<String, INDArray> layerNorm(boolean recorded) {
    int rows = 4096;
    int d = 256;
    Nd4j.getRandom().setSeed(3);
    INDArray weight = Nd4j.randn(DataType.DOUBLE, d);
    INDArray bias = Nd4j.randn(DataType.DOUBLE, d);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.var("x", Nd4j.randn(DataType.DOUBLE, rows, d));
    Layers l = new Layers(sd, new Variables(sd, n -> n.endsWith(".weight") ? weight : bias, DataType.DOUBLE), Engine.trainingOps(sd));
    SDVariable y = recorded ? l.layerNorm(x, "n", 1e-6, rows) : l.layerNorm(x, "n", 1e-6);
    SDVariable loss = sd.sum(y.mul(sd.constant(Nd4j.randn(DataType.DOUBLE, rows, d))));
    sd.setLossVariables(loss.name());
    assertEquals(recorded ? 2 : 0, Engine.prepareGradients(sd, Engine.Backward.VIEWS).get("broadcast"),
        "the scale's and the shift's additions");
    return new Engine().gradientsAndOutputs(sd, Map.of(), List.of(loss.name()), List.of("x", "n.weight", "n.bias"))
        .getGradients();
  }

  /** The packed projections [b * N, 3 * DIM] every path runs on: a fixed draw in double. */
  private static INDArray qkv(int b) {
    Nd4j.getRandom().setSeed(5);
    return Nd4j.randn(DataType.DOUBLE, (long) b * N, 3L * DIM);
  }

  /** |got - want| / |want| (L2). */
  private static double relative(INDArray got, INDArray want) {
    return got.sub(want).norm2Number().doubleValue() / want.norm2Number().doubleValue();
  }
}

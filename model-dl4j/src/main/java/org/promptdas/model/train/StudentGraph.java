package org.promptdas.model.train;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.Weights;

/**
 * The network a training step differentiates: one graph, or, with <em>encoder recomputation</em>,
 * one graph per encoder block plus one for the rest ({@link PromptDasGraph#buildEncoderBlock},
 * {@link PromptDasGraph#buildHead}). Recomputation trades one extra encoder forward pass for
 * memory: the step keeps only the tokens between blocks instead of every block's activations
 * (the paper encoder's 2304 x 2304 attention maps), and rebuilds one block's activations at a time during the backward pass. Gradients
 * are those of the single graph up to float rounding ({@code StudentGraphTest}). The first, forward
 * pass runs each block's forward-only twin ({@link PromptDasGraph#buildEncoderBlockInference},
 * views instead of copies), which holds the same weight arrays.
 *
 * <p>The loss is attached to {@link #head()}; then {@link #prepare()} builds the backward graphs.
 * Each trainable variable lives in exactly one of the differentiated graphs (a twin holds the same
 * array), so {@link #trainables()} is their union and an in-place update of those arrays updates
 * the network. Not thread-safe.
 *
 * <pre>{@code
 * StudentGraph g = StudentGraph.build(weights, 2, 16, 0, true);
 * TrainingLoss.attach(g.head(), ...);
 * g.prepare();
 * OutAndGrad og = g.gradientsAndOutputs(engine, placeholders, List.of(TrainingLoss.LOSS));
 * }</pre>
 */
public final class StudentGraph {
  private final List<SameDiff> blocks;
  /** The blocks' forward-only twins, on the same weight arrays: the step's first encoder pass. */
  private final List<SameDiff> forwardBlocks;
  private final SameDiff head;

  private StudentGraph(List<SameDiff> blocks, List<SameDiff> forwardBlocks, SameDiff head) {
    this.blocks = blocks;
    this.forwardBlocks = forwardBlocks;
    this.head = head;
  }

  /**
   * Encoder token count from which recomputation pays: with few tokens the extra encoder pass
   * costs more than the memory it saves; with many it takes about the same time and saves most of
   * the step's peak memory (docs/performance.md).
   */
  public static final int RECOMPUTE_MIN_TOKENS = 1024;

  /**
   * Whether {@code auto} recomputation applies to network {@code c} (see
   * {@link #RECOMPUTE_MIN_TOKENS}); never to a network with a stem, whose skips bypass the blocks.
   */
  public static boolean recomputePays(NetworkConfig c) {
    return !c.hasStem() && c.grid() * c.grid() >= RECOMPUTE_MIN_TOKENS;
  }

  /**
   * Whether a recomputation setting ({@code auto}, {@code true} or {@code false}, any case) means
   * recomputing for network {@code c}; the one reading of {@code train.recompute-encoder} and the
   * benchmarks' {@code --recompute-encoder}.
   */
  public static boolean recompute(String setting, NetworkConfig c) {
    return switch (setting.trim().toLowerCase(Locale.ROOT)) {
      case "auto" -> recomputePays(c);
      case "true" -> {
        if (c.hasStem()) {
          throw new PromptDasException.BadConfig("recompute-encoder = true: a network with a "
              + "convolutional stem feeds its decoder from the stem too, so its encoder is not recomputed "
              + "(use auto or false)");
        }
        yield true;
      }
      case "false" -> false;
      default -> throw new PromptDasException.BadInput(
          "recompute-encoder must be auto, true or false, got '" + setting + "'");
    };
  }

  /**
   * The student for {@code batch} crops with {@code prompts} prompt slots and {@code extras}
   * extra tokens, in float; {@code recompute} splits it into per-block graphs.
   */
  public static StudentGraph build(Weights w, int batch, int prompts, int extras, boolean recompute) {
    if (!recompute) {
      return new StudentGraph(List.of(), List.of(), PromptDasGraph.build(w, batch, prompts, extras, DataType.FLOAT));
    }
    List<SameDiff> blocks = new ArrayList<>();
    List<SameDiff> forwardBlocks = new ArrayList<>();
    for (int i = 0; i < w.config().depth(); i++) {
      SameDiff b = PromptDasGraph.buildEncoderBlock(w, i, batch, DataType.FLOAT);
      blocks.add(b);
      forwardBlocks.add(PromptDasGraph.buildEncoderBlockInference(b, w.config(), i, batch, DataType.FLOAT));
    }
    return new StudentGraph(blocks, forwardBlocks, PromptDasGraph.buildHead(w, batch, prompts, extras, DataType.FLOAT));
  }

  /** The graph holding the network's outputs, to which the loss is attached. */
  public SameDiff head() {
    return head;
  }

  /**
   * Every graph of the student: the blocks' forward-only twins and the blocks (none without
   * recomputation), then the head.
   */
  public List<SameDiff> graphs() {
    List<SameDiff> all = new ArrayList<>(forwardBlocks);
    all.addAll(blocks);
    all.add(head);
    return all;
  }

  /** Builds every backward graph; call once, after the loss is attached to {@link #head()}. */
  public void prepare() {
    blocks.forEach(b -> Engine.prepareGradients(b, Engine.Backward.VIEWS));
    Engine.prepareGradients(head, Engine.Backward.VIEWS);
  }

  /** Every weight by name (live arrays): the head's, then block by block. */
  public Map<String, INDArray> trainables() {
    Map<String, INDArray> out = new LinkedHashMap<>(Gradients.trainables(head));
    blocks.forEach(b -> out.putAll(Gradients.trainables(b)));
    out.remove(PromptDasGraph.TOKENS);
    return out;
  }

  /**
   * The {@code outputs} of the head graph and the gradient of its loss for every trainable variable
   * (a variable the loss does not reach has none), for placeholders {@code inputs} of the whole
   * network ({@link PromptDasGraph#IMAGE} included), each graph run in a fresh session of
   * {@code arrays}.
   */
  public OutAndGrad gradientsAndOutputs(Engine engine, Map<String, INDArray> inputs,
      Collection<String> outputs) {
    if (blocks.isEmpty()) {
      return engine.gradientsAndOutputs(head, inputs, outputs, Gradients.trainables(head).keySet());
    }
    // forward through the blocks, keeping only each block's input tokens
    Map<String, INDArray> image = Map.of(PromptDasGraph.IMAGE, inputs.get(PromptDasGraph.IMAGE));
    List<INDArray> blockInputs = new ArrayList<>();
    INDArray x = null;
    for (SameDiff f : forwardBlocks) {
      blockInputs.add(x);
      x = engine.output(f, x == null ? image : setTokens(f, x, Map.of()), PromptDasGraph.ENCODED)
          .get(PromptDasGraph.ENCODED).dup();
    }
    // TOKENS is a variable of the head and of blocks 1.., so asking for every variable's gradient
    // also returns the gradient to pass back to the block before
    Map<String, INDArray> headInputs = setTokens(head, x, inputs);
    headInputs.remove(PromptDasGraph.IMAGE);
    OutAndGrad og = engine.gradientsAndOutputs(head, headInputs, outputs, Gradients.trainables(head).keySet());
    Map<String, INDArray> grads = new HashMap<>(og.getGradients());
    // backward, block by block from the last, each recomputing its own forward pass
    for (int i = blocks.size() - 1; i >= 0; i--) {
      SameDiff b = blocks.get(i);
      Map<String, INDArray> in = i == 0 ? new HashMap<>(image) : setTokens(b, blockInputs.get(i), Map.of());
      in.put(PromptDasGraph.TOKENS_GRAD, grads.remove(PromptDasGraph.TOKENS).dup());
      grads.putAll(engine.gradientsAndOutputs(b, in, List.of(), Gradients.trainables(b).keySet()).getGradients());
    }
    grads.remove(PromptDasGraph.TOKENS);
    return new OutAndGrad(og.getOutputs(), grads);
  }

  /** Puts {@code tokens} into graph {@code sd}'s input variable; returns a mutable copy of {@code placeholders}. */
  private static Map<String, INDArray> setTokens(SameDiff sd, INDArray tokens, Map<String, INDArray> placeholders) {
    sd.getVariable(PromptDasGraph.TOKENS).setArray(tokens);
    return new HashMap<>(placeholders);
  }
}

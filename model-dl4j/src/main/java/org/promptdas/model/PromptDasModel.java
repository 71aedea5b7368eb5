package org.promptdas.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.model.engine.Engine;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.PromptDasGraph;
import org.promptdas.model.network.PromptPoints;
import org.promptdas.model.network.Weights;

/**
 * The Prompt-DAS network ready for inference: batched forward passes with any number of prompt
 * points per crop (zero included). Prompt slots are padded up to a multiple of
 * {@value #PROMPT_BUCKET} and masked, so the outputs do not depend on the padding and only a few
 * graphs are built; graphs are cached by (batch, prompt slots, extra tokens).
 *
 * <p>Thread-safe: forward passes are serialised (one ND4J graph executes at a time per model). A
 * {@link #sharded} model splits each batch into shards that run side by side, one core each, with
 * single-threaded ops ({@code Engine.concurrently}): the way to use several cores for a small
 * network, whose small ops do not gain from being split over cores. A model travels to Spark tasks as bytes
 * ({@link ModelFile#toBytes}), never as a Java-serialised object.
 *
 * <pre>{@code
 * PromptDasModel m = ModelFile.load(Path.of("model.pdas"), null);
 * PromptDasModel.Prediction p = m.predict(List.of(crop), List.of(List.of(new Point(40, 52))));
 * float[] probability = p.probability(0); // crop-sized, row-major
 * }</pre>
 */
public final class PromptDasModel {
  /** Prompt slots are allocated in multiples of this many. */
  public static final int PROMPT_BUCKET = 8;
  private static final double[] MEAN = {0.485, 0.456, 0.406};
  private static final double[] STD = {0.229, 0.224, 0.225};
  private static final int MAX_GRAPHS = 8;

  private final Weights weights;
  private final DataType type;
  private final Map<String, SameDiff> graphs = new LinkedHashMap<>(16, 0.75f, true);
  private final Engine engine = new Engine();
  /** The plain models that run the shards of a batch; empty: this model runs whole batches. */
  private final List<PromptDasModel> lanes = new ArrayList<>();

  public PromptDasModel(Weights weights) {
    this(weights, DataType.FLOAT);
  }

  public PromptDasModel(Weights weights, DataType type) {
    this.weights = weights;
    this.type = type;
  }

  /**
   * A model with these weights that runs each batch as up to {@code shards} equal shards side by
   * side (the largest count that divides the batch); the same outputs up to float rounding.
   * {@code shards} 1 gives a plain model.
   */
  public PromptDasModel sharded(int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be at least 1, got " + shards);
    }
    PromptDasModel m = new PromptDasModel(weights, type);
    for (int i = 0; shards > 1 && i < shards; i++) {
      m.lanes.add(new PromptDasModel(weights, type));
    }
    return m;
  }

  /** How many shards a batch runs in at most (1: whole batches). */
  public int shards() {
    return Math.max(1, lanes.size());
  }

  public NetworkConfig config() {
    return weights.config();
  }

  public Weights weights() {
    return weights;
  }

  /** Raw network outputs of one batch: mask logits at half and at full crop size, density, contrast. */
  public record Output(INDArray segLogits, INDArray segLogitsFull, INDArray det, INDArray contrast) {
    /**
     * Frees the arrays' memory now rather than when they are collected (ND4J's off-heap buffers
     * outlive their use until a GC); the arrays must not be used afterwards.
     */
    public void close() {
      release(segLogits, segLogitsFull, det, contrast);
    }
  }

  private static void release(INDArray... arrays) {
    Engine.release(java.util.Arrays.asList(arrays));
  }

  /**
   * One forward pass.
   *
   * @param image [b, 3, s, s], normalised ({@link #normalise})
   * @param prompts per crop, its prompt points (pixel x, y), any number
   * @param extras per crop, extra (contrastive) points appended after the prompts, or null
   */
  public Output forward(INDArray image, List<List<Point>> prompts, List<List<Point>> extras) {
    int b = (int) image.size(0);
    if (prompts.size() != b || (extras != null && extras.size() != b)) {
      throw new IllegalArgumentException("need one prompt list (and extra list) per crop");
    }
    if (extras != null && extras.stream().anyMatch(x -> x.size() != extras.get(0).size())) {
      throw new IllegalArgumentException("every crop needs the same number of extra points");
    }
    // one slot count for the whole batch, so that every shard's outputs have the same shape
    int maxPrompts = prompts.stream().mapToInt(List::size).max().orElse(0);
    int slots = (maxPrompts + PROMPT_BUCKET - 1) / PROMPT_BUCKET * PROMPT_BUCKET;
    int parts = lanes.isEmpty() ? 1 : Engine.shardsFor(lanes.size(), b);
    if (parts == 1) {
      return whole(image, prompts, extras, slots);
    }
    List<Output> outs = Engine.inShards(prompts, parts, (i, from, part) -> {
      INDArray rows = image.get(NDArrayIndex.interval(from, from + part.size())).dup();
      Output o = lanes.get(i).whole(rows, part, extras == null ? null : extras.subList(from, from + part.size()), slots);
      rows.close();
      return o;
    });
    Output all = new Output(concat(outs, Output::segLogits), concat(outs, Output::segLogitsFull),
        concat(outs, Output::det), concat(outs, Output::contrast));
    outs.forEach(Output::close);
    return all;
  }

  private static INDArray concat(List<Output> outs, Function<Output, INDArray> part) {
    return Nd4j.concat(0, outs.stream().map(part).toArray(INDArray[]::new));
  }

  /** One forward pass of the whole batch through this model's own graph with {@code slots} prompt slots. */
  private synchronized Output whole(INDArray image, List<List<Point>> prompts, List<List<Point>> extras,
      int slots) {
    int b = (int) image.size(0);
    int e = extras == null ? 0 : extras.get(0).size();
    SameDiff sd = graph(b, slots, e);
    Map<String, INDArray> in = new LinkedHashMap<>();
    in.put(PromptDasGraph.IMAGE, image.castTo(type));
    PromptPoints.put(in, prompts, slots, extras, e, type);
    Map<String, INDArray> out = engine.output(sd, in, PromptDasGraph.SEG_LOGITS,
        PromptDasGraph.SEG_LOGITS_FULL, PromptDasGraph.DET, PromptDasGraph.CONTRAST);
    return new Output(out.get(PromptDasGraph.SEG_LOGITS).detach(),
        out.get(PromptDasGraph.SEG_LOGITS_FULL).detach(), out.get(PromptDasGraph.DET).detach(),
        out.get(PromptDasGraph.CONTRAST).detach());
  }

  private SameDiff graph(int b, int slots, int extras) {
    String key = b + "/" + slots + "/" + extras;
    SameDiff sd = graphs.get(key);
    if (sd == null) {
      sd = PromptDasGraph.buildInference(weights, b, slots, extras, type);
      graphs.put(key, sd);
      if (graphs.size() > MAX_GRAPHS) {
        graphs.remove(graphs.keySet().iterator().next());
      }
    }
    return sd;
  }

  /** Foreground probability and density map of each crop, at the crop size. */
  public record Prediction(INDArray probability, INDArray density) {
    /**
     * The prediction from the network's outputs: the sigmoid of the full-size mask logits
     * ({@link PromptDasGraph#SEG_LOGITS_FULL}) and the density map ({@link PromptDasGraph#DET}), both
     * as new float arrays (the outputs are left to the caller).
     */
    public static Prediction of(INDArray segLogitsFull, INDArray det) {
      INDArray prob = Transforms.sigmoid(segLogitsFull.castTo(DataType.FLOAT), true);
      INDArray density = det.castTo(DataType.FLOAT).reshape(det.size(0), det.size(2), det.size(3)).dup('c');
      return new Prediction(prob, density);
    }

    public float[] probability(int i) {
      return crop(probability, i);
    }

    public float[] density(int i) {
      return crop(density, i);
    }

    /** Frees both arrays' memory now ({@link Output#close}); they must not be used afterwards. */
    public void close() {
      release(probability, density);
    }

    /** Crop i of a [b, ...] array, row-major, read straight from its buffer when it is C-contiguous. */
    private static float[] crop(INDArray a, int i) {
      long n = a.length() / a.size(0);
      if (a.ordering() == 'c' && a.elementWiseStride() == 1) {
        return a.data().getFloatsAt(a.offset() + i * n, (int) n);
      }
      return a.slice(i).dup('c').data().asFloat();
    }
  }

  /**
   * Predicts a batch of crops (8- or 16-bit grey, each {@code imageSize} square). The mask logits
   * are upsampled x2 bilinearly to the crop size before the sigmoid (as SAM post-processes masks).
   */
  public Prediction predict(List<IntImage> crops, List<List<Point>> prompts) {
    INDArray image = normalise(crops, config().imageSize());
    Output o = forward(image, prompts, null);
    image.close();
    Prediction p = Prediction.of(o.segLogitsFull(), o.det());
    o.close();
    return p;
  }

  /**
   * Grey crops to the encoder's input: scaled to [0, 1] by their bit depth (8-bit unless a sample
   * exceeds 255), repeated to 3 channels, normalised with ImageNet's mean and std.
   */
  public static INDArray normalise(List<IntImage> crops, int size) {
    INDArray x = Nd4j.create(DataType.FLOAT, crops.size(), 3, size, size);
    for (int i = 0; i < crops.size(); i++) {
      IntImage c = crops.get(i);
      if (c.width() != size || c.height() != size) {
        throw new IllegalArgumentException("crop " + i + " is " + c.width() + "x" + c.height()
            + ", the network takes " + size + "x" + size);
      }
      double scale = c.max() > 255 ? 65535.0 : 255.0;
      float[][] ch = new float[3][c.size()];
      for (int k = 0; k < c.size(); k++) {
        double v = c.data()[k] / scale;
        for (int j = 0; j < 3; j++) {
          ch[j][k] = (float) ((v - MEAN[j]) / STD[j]);
        }
      }
      for (int j = 0; j < 3; j++) {
        x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.point(j))
            .assign(Nd4j.create(ch[j], new long[] {size, size}, 'c'));
      }
    }
    return x;
  }
}

package org.promptdas.model.infer;

import java.util.ArrayList;
import java.util.List;
import org.promptdas.core.geometry.Crops;
import org.promptdas.core.geometry.Rot90;
import org.promptdas.core.geometry.TileGrid;
import org.promptdas.core.geometry.Window;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.model.PromptDasModel;

/**
 * The paper's inference on a whole slice: windows of the network's crop size at a stride (paper:
 * 384, 128; the last window of each axis clamped to the edge, slices smaller than a crop padded),
 * each window predicted in 4 rotations (0, 90, 180, 270 degrees) whose outputs are rotated back,
 * and every pixel the equal-weight mean of all predictions covering it (a count map). Prompt points
 * inside a window go with it (rotated alike); with self-prompting ({@link SelfPrompting}) each
 * window also gets the points its own first pass detects. Windows are batched ({@code batch} crops
 * per forward pass). Memory: two float maps of the slice plus one batch (garbage is collected after each
 * batch). Not thread-safe (one per task).
 */
public final class SlidingWindowPredictor {
  private final PromptDasModel model;
  private final TileGrid grid;
  private final boolean rotations;
  private final int batch;
  private final SelfPrompting selfPrompting;

  /** The paper's inference: given prompts only. */
  public SlidingWindowPredictor(PromptDasModel model, int stride, boolean rotations, int batch) {
    this(model, stride, rotations, batch, null);
  }

  /**
   * With {@code selfPrompting} each window is also prompted with the points it detects itself;
   * null: the given prompts only.
   */
  public SlidingWindowPredictor(PromptDasModel model, int stride, boolean rotations, int batch,
      SelfPrompting selfPrompting) {
    this.model = model;
    this.grid = new TileGrid(model.config().imageSize(), stride, TileGrid.SmallSlicePolicy.PAD);
    this.rotations = rotations;
    this.batch = batch;
    this.selfPrompting = selfPrompting;
  }

  /** Foreground probability and density of every pixel of the slice (row-major). */
  public record Result(int width, int height, float[] probability, float[] density) {}

  /** One crop to predict and where its output goes back. */
  private record Job(Window window, int turns, IntImage crop, List<Point> prompts) {}

  public Result predict(IntImage slice, List<Point> prompts, String name) {
    int w = slice.width();
    int h = slice.height();
    int n = model.config().imageSize();
    float[] prob = new float[w * h];
    float[] dens = new float[w * h];
    int[] count = new int[w * h];
    List<Job> pending = new ArrayList<>();
    for (Window win : grid.windows(w, h, name)) {
      IntImage crop = Crops.extract(slice, win, Crops.Padding.REFLECT);
      List<Point> inside = new ArrayList<>();
      for (Point p : prompts) {
        if (p.x() >= win.x() && p.y() >= win.y() && p.x() < win.x() + n && p.y() < win.y() + n) {
          inside.add(new Point(p.x() - win.x(), p.y() - win.y()));
        }
      }
      for (int k = 0; k < (rotations ? 4 : 1); k++) {
        List<Point> turned = new ArrayList<>();
        for (Point p : inside) {
          turned.add(Rot90.point(p, n, k));
        }
        pending.add(new Job(win, k, Rot90.image(crop, k), turned));
        if (pending.size() == batch) {
          run(pending, prob, dens, count, w, h, n);
          pending.clear();
        }
      }
    }
    if (!pending.isEmpty()) {
      run(pending, prob, dens, count, w, h, n);
    }
    for (int i = 0; i < prob.length; i++) {
      prob[i] /= count[i];
      dens[i] /= count[i];
    }
    return new Result(w, h, prob, dens);
  }

  private void run(List<Job> jobs, float[] prob, float[] dens, int[] count, int w, int h, int n) {
    List<IntImage> crops = jobs.stream().map(Job::crop).toList();
    List<List<Point>> prompts = jobs.stream().map(Job::prompts).toList();
    PromptDasModel.Prediction p = selfPrompting != null ? selfPrompting.predict(model, crops, prompts)
        : model.predict(crops, prompts);
    for (int j = 0; j < jobs.size(); j++) {
      Job job = jobs.get(j);
      float[] pr = Rot90.map(p.probability(j), n, -job.turns());
      float[] de = Rot90.map(p.density(j), n, -job.turns());
      Window win = job.window();
      for (int y = 0; y < n; y++) {
        int sy = win.y() + y;
        if (sy >= h) {
          break;
        }
        for (int x = 0; x < n; x++) {
          int sx = win.x() + x;
          if (sx >= w) {
            break;
          }
          prob[sy * w + sx] += pr[y * n + x];
          dens[sy * w + sx] += de[y * n + x];
          count[sy * w + sx]++;
        }
      }
    }
    p.close(); // now, not when collected: a 4096^2 slice runs thousands of batches
  }
}

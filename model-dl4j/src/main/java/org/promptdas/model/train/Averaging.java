package org.promptdas.model.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException;
import org.promptdas.model.network.ParamSpec;
import org.promptdas.model.network.Weights;

/**
 * The arithmetic of a synchronous data-parallel round. Each worker continues from the same
 * {@link TrainingState} for K local steps and contributes its state as one flat vector (student
 * parameters, then AdamW's first and second moments, each in the start state's parameter order);
 * the vectors are summed (in any order); {@link #average} divides the sum by the number of workers
 * and moves the teacher once:
 * <pre>
 *   teacher' = d teacher + (1 - d) student',  d = prod over the round's steps t of emaDecay(t)
 * </pre>
 * which is exactly the single-process EMA when K = 1 and one worker, and for K &gt; 1 applies the
 * round's combined decay to the averaged student (the intermediate students of a round exist only
 * on the workers). Frozen tensors ({@link ParamSpec#frozen}) keep the start state's values exactly
 * (a mean of equal floats can differ from them in the last bit). A state with a value that is not
 * finite is refused, so it never reaches a checkpoint. Stateless and thread-safe.
 */
public final class Averaging {
  private Averaging() {}

  /** Length of the flat vector of a state of {@code start}'s network. */
  public static long length(TrainingState start) {
    long n = 0;
    for (INDArray a : start.student().values()) {
      n += a.length();
    }
    return 3 * n;
  }

  /** A worker's contribution: student, m and v concatenated (moments never computed count as 0). */
  public static float[] flatten(TrainingState worker) {
    long n = length(worker);
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("the network has too many parameters for one vector: " + n / 3);
    }
    float[] out = new float[(int) n];
    int at = 0;
    for (Map<String, INDArray> part : List.of(worker.student(), worker.firstMoments(),
        worker.secondMoments())) {
      for (String name : new TreeSet<>(worker.student().keySet())) {
        INDArray a = part.get(name);
        int len = (int) worker.student().get(name).length();
        if (a != null) {
          System.arraycopy(a.castTo(DataType.FLOAT).dup('c').data().asFloat(), 0, out, at, len);
        }
        at += len;
      }
    }
    return out;
  }

  /**
   * The state after a round: the mean of {@code workers} contributions whose element-wise sum is
   * {@code sum}, {@code localSteps} steps after {@code start}, with the teacher moved as above.
   */
  public static TrainingState average(TrainingState start, float[] sum, int workers, int localSteps) {
    if (sum.length != length(start)) {
      throw new IllegalArgumentException("a sum of " + sum.length + " values for a state of " + length(start));
    }
    float scale = 1f / workers;
    Map<String, INDArray> student = new LinkedHashMap<>();
    Map<String, INDArray> m = new LinkedHashMap<>();
    Map<String, INDArray> v = new LinkedHashMap<>();
    int at = 0;
    for (Map<String, INDArray> part : List.of(student, m, v)) {
      for (String name : new TreeSet<>(start.student().keySet())) {
        INDArray like = start.student().get(name);
        int len = (int) like.length();
        float[] chunk = new float[len];
        for (int i = 0; i < len; i++) {
          chunk[i] = sum[at + i] * scale;
        }
        if (!ParamSpec.frozen(name)) {
          part.put(name, Nd4j.create(chunk, like.shape(), 'c'));
        } else if (part == student) {
          part.put(name, like.dup()); // a frozen tensor has no moments
        }
        at += len;
      }
    }
    TrainConfig cfg = start.training();
    Map<String, INDArray> teacher = student;
    if (cfg.hasTeacher()) {
      double d = 1;
      for (long t = start.step(); t < start.step() + localSteps; t++) {
        d *= cfg.emaDecay(t);
      }
      teacher = new LinkedHashMap<>();
      for (Map.Entry<String, INDArray> e : start.teacher().entrySet()) {
        teacher.put(e.getKey(), ParamSpec.frozen(e.getKey()) ? e.getValue().dup()
            : e.getValue().mul(d).addi(student.get(e.getKey()).mul(1 - d)));
      }
    }
    String bad = Weights.firstNonFinite(student);
    if (bad == null) {
      bad = Weights.firstNonFinite(teacher);
    }
    if (bad != null) {
      throw new PromptDasException("training diverged in the round ending at step "
          + (start.step() + localSteps) + ": " + bad + " is not finite after averaging (lower the "
          + "learning rate; the last checkpoint is intact)");
    }
    return new TrainingState(start.network(), cfg, start.step() + localSteps,
        start.adamSteps() + localSteps, student, teacher, m, v);
  }
}

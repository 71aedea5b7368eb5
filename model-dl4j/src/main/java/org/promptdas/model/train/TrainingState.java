package org.promptdas.model.train;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/**
 * Everything a training run needs to continue: the network and training configuration, the number
 * of steps done, the student's and the teacher's parameters and AdamW's moments (all by graph
 * variable name, in graph layout, float32). What a checkpoint stores and what a distributed round
 * broadcasts; random state needs no place here because step t's random choices are a function of
 * (seed, stream, t). Instances are snapshots: the maps are not shared with a live trainer.
 *
 * @param adamSteps AdamW's update count (its bias correction)
 * @param teacher equal to {@code student} in modes without a teacher (source-only, oracle)
 * @param firstMoments AdamW's m, one entry per parameter that has received a gradient
 * @param secondMoments AdamW's v, same keys as {@code firstMoments}
 */
public record TrainingState(NetworkConfig network, TrainConfig training, long step, long adamSteps,
    Map<String, INDArray> student, Map<String, INDArray> teacher,
    Map<String, INDArray> firstMoments, Map<String, INDArray> secondMoments) {

  /** The state before the first step: teacher = student = {@code init}, no moments. */
  public static TrainingState initial(Weights init, TrainConfig training) {
    Map<String, INDArray> s = init.graphTensors();
    return new TrainingState(init.config(), training, 0, 0, s, s, Map.of(), Map.of());
  }
}

package org.promptdas.model;

import java.util.List;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.metrics.MetricsAccumulator;
import org.promptdas.core.metrics.Protocol;
import org.promptdas.core.metrics.Scorer;
import org.promptdas.core.synth.Domain;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Mode;
import org.promptdas.model.train.Sample;
import org.promptdas.model.train.TrainConfig;
import org.promptdas.model.train.Trainer;

/**
 * Source-only versus UDA versus WDA on the generated domains with the tiny network: pre-train on
 * source crops, then continue from the same source model in each mode for the same number of
 * steps, and score held-out target crops (no testing prompts). Shared by the adaptation test.
 */
final class AdaptationExperiment {
  private AdaptationExperiment() {}

  record Result(double sourceOnlyDice, double udaDice, double wdaDice) {}

  static double targetDice(Weights w) {
    PromptDasModel m = new PromptDasModel(w);
    Scorer scorer = new Scorer(Protocol.BINARY, 0);
    MetricsAccumulator acc = new MetricsAccumulator();
    for (int i = 0; i < 12; i++) {
      Sample s = TrainerTest.crop(Domain.TARGET, 9000 + i, true, 0);
      float[] p = m.predict(List.of(s.image()), List.of(List.of())).probability(0);
      IntImage mask = new IntImage(64, 64);
      for (int k = 0; k < p.length; k++) {
        mask.data()[k] = p[k] > 0.5f ? 1 : 0;
      }
      acc.add(scorer.score(mask, s.label()));
    }
    return acc.mean("dice");
  }

  static Result run(int pretrain, int adapt, double lr, long seed) {
    NetworkConfig net = NetworkConfig.tiny();
    TrainConfig base = TrainerTest.config(Mode.SOURCE_ONLY, pretrain + adapt, lr);
    Trainer src = new Trainer(Weights.initialise(net, seed), base);
    for (int s = 0; s < pretrain; s++) {
      src.step(TrainerTest.source(s), List.of());
    }
    Weights sourceModel = src.studentWeights();
    double[] dice = new double[3];
    Mode[] modes = {Mode.SOURCE_ONLY, Mode.UDA, Mode.WDA};
    for (int k = 0; k < modes.length; k++) {
      Trainer t = new Trainer(sourceModel, base.withMode(modes[k]));
      for (int s = pretrain; s < pretrain + adapt; s++) {
        t.step(TrainerTest.source(s), TrainerTest.target(s));
      }
      dice[k] = targetDice(modes[k] == Mode.SOURCE_ONLY ? t.studentWeights() : t.teacherWeights());
      System.out.printf("%s: target Dice %.4f%n", modes[k], dice[k]);
    }
    return new Result(dice[0], dice[1], dice[2]);
  }

  /** Source-only learning curve: target and source Dice every {@code every} steps. */
  static void sourceCurve(int steps, int every, double lr) {
    NetworkConfig net = NetworkConfig.tiny();
    Trainer t = new Trainer(Weights.initialise(net, 7), TrainerTest.config(Mode.SOURCE_ONLY, steps, lr));
    for (int s = 0; s < steps; s++) {
      double loss = t.step(TrainerTest.source(s), List.of()).loss();
      if ((s + 1) % every == 0) {
        System.out.printf("step %d loss %.4f target Dice %.4f%n", s + 1, loss, targetDice(t.studentWeights()));
      }
    }
  }

  public static void main(String[] args) {
    if (args[0].equals("curve")) {
      sourceCurve(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Double.parseDouble(args[3]));
      return;
    }
    long t0 = System.nanoTime();
    Result r = run(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Double.parseDouble(args[2]), 7);
    System.out.printf("%s in %.0f s%n", r, (System.nanoTime() - t0) / 1e9);
  }
}

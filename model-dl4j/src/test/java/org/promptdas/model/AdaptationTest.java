package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The paper's claim in miniature, on the generated source/target domains with the tiny network and
 * fixed seeds: after the same source pre-training (100 steps) and the same number of further steps
 * (100), the UDA and WDA models segment held-out target crops better than the source-only model
 * (each prints its target Dice, no testing prompts).
 */
class AdaptationTest {

  @Test
  void udaAndWdaBeatSourceOnlyOnTheTargetDomain() {
    AdaptationExperiment.Result r = AdaptationExperiment.run(100, 100, 2e-3, 7);
    assertTrue(r.udaDice() > r.sourceOnlyDice() + 0.02, r.toString());
    assertTrue(r.wdaDice() > r.sourceOnlyDice() + 0.02, r.toString());
  }
}

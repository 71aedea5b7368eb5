package org.promptdas.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;

class ScorerTest {

  private static IntImage rects(int w, int h, int[][] rects, boolean ids) {
    IntImage m = new IntImage(w, h);
    int id = 0;
    for (int[] r : rects) {
      id++;
      for (int y = r[1]; y < r[1] + r[3]; y++) {
        for (int x = r[0]; x < r[0] + r[2]; x++) {
          m.set(x, y, ids ? id : 255);
        }
      }
    }
    return m;
  }

  @Test
  void handComputedScores() {
    // gt: one 10x10 square; pred: the same square shifted right by 5 (IoU 50/150 = 1/3).
    IntImage gt = rects(30, 20, new int[][] {{2, 2, 10, 10}}, false);
    IntImage pred = rects(30, 20, new int[][] {{7, 2, 10, 10}}, false);
    SliceScores s = new Scorer(Protocol.BINARY, 15).score(pred, gt);
    assertEquals(2.0 * 50 / 200, s.dice(), 1e-12);
    assertEquals(50.0 / 150, s.jaccard(), 1e-12);
    assertEquals(50.0 / 150, s.aji(), 1e-12);
    assertEquals(0.0, s.pq(), 1e-12); // IoU 1/3 is no match: TP 0, FP 1, FN 1
    assertEquals(0.0, s.dq(), 1e-12);
  }

  @Test
  void smallPredictedComponentsAreRemovedFirst() {
    IntImage gt = rects(40, 20, new int[][] {{2, 2, 10, 10}}, false);
    IntImage pred = rects(40, 20, new int[][] {{2, 2, 10, 10}, {30, 5, 3, 5}}, false); // 15 px speck
    assertEquals(1.0, new Scorer(Protocol.BINARY, 15).score(pred, gt).dice(), 1e-12);
    assertTrue(new Scorer(Protocol.BINARY, 14).score(pred, gt).dice() < 1.0);
  }

  @Test
  void instanceProtocolSeparatesTouchingInstances() {
    // Two touching ground-truth instances; the prediction covers both as one blob.
    IntImage gt = rects(30, 20, new int[][] {{2, 2, 8, 8}, {10, 2, 8, 8}}, true);
    IntImage pred = rects(30, 20, new int[][] {{2, 2, 16, 8}}, false);
    SliceScores binary = new Scorer(Protocol.BINARY, 15).score(pred, gt);
    SliceScores inst = new Scorer(Protocol.INSTANCE, 15).score(pred, gt);
    assertEquals(1.0, binary.pq(), 1e-5);          // one instance against one
    assertEquals(0.0, inst.pq(), 1e-12);           // IoU 1/2 each: not > 0.5
    assertEquals(binary.dice(), inst.dice(), 0.0); // pixels are the same
    assertEquals(0.5, inst.aji(), 1e-6);           // both pair with the blob: (64+64)/(128+128)
  }

  @Test
  void emptyGroundTruthAndPredictionIsUndefinedAndLeftOutOfTheMean() {
    Scorer scorer = new Scorer(Protocol.BINARY, 15);
    SliceScores empty = scorer.score(new IntImage(8, 8), new IntImage(8, 8));
    assertFalse(empty.defined());
    IntImage gt = rects(20, 20, new int[][] {{2, 2, 10, 10}}, false);
    MetricsAccumulator acc = new MetricsAccumulator().add(empty).add(scorer.score(gt, gt));
    assertEquals(1.0, acc.mean("dice"), 0.0);
    assertEquals(1, acc.undefinedSlices());
    assertEquals(2, acc.slices());
  }

  @Test
  void accumulatorsMergeToTheSameMeans() {
    SliceScores a = new SliceScores(0.9, 0.8, 0.7, 0.6, 0.5, 0.4);
    SliceScores b = new SliceScores(0.1, 0.2, 0.3, 0.4, 0.5, 0.6);
    MetricsAccumulator whole = new MetricsAccumulator().add(a).add(b).add(SliceScores.UNDEFINED);
    MetricsAccumulator merged = new MetricsAccumulator().add(b)
        .merge(new MetricsAccumulator().add(SliceScores.UNDEFINED).add(a));
    assertEquals(whole.means(), merged.means());
    assertEquals(whole.undefinedSlices(), merged.undefinedSlices());
  }

  @Test
  void mismatchedSizesNameTheSlice() {
    BadInput e = assertThrows(BadInput.class, () -> new Scorer(Protocol.BINARY, 15)
        .evaluate(new IntImage(10, 10), new IntImage(10, 12), "s07.png"));
    assertTrue(e.getMessage().contains("s07.png"), e.getMessage());
  }

  @Test
  void overlayUsesThePaperColours() {
    IntImage gt = rects(4, 1, new int[][] {{0, 0, 2, 1}}, false).binarize();
    IntImage pred = rects(4, 1, new int[][] {{1, 0, 2, 1}}, false).binarize();
    int[] rgb = ErrorOverlay.render(pred, gt, null);
    assertEquals(0, rgb[3]);                             // true negative: background
    assertTrue((rgb[0] >> 16 & 0xff) > (rgb[0] & 0xff)); // false negative: red
    assertTrue((rgb[1] >> 8 & 0xff) > (rgb[1] >> 16 & 0xff)); // true positive: green
    assertTrue((rgb[2] & 0xff) > (rgb[2] >> 8 & 0xff));  // false positive: blue
  }
}

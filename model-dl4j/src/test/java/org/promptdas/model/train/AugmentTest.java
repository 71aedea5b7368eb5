package org.promptdas.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.promptdas.core.image.IntImage;

/** The strong photometric view of self-training ({@link Augment#strongPhotometric}). */
class AugmentTest {
  /** A dark disc (a mitochondrion) on a bright background. */
  private static IntImage disc() {
    IntImage img = new IntImage(48, 48);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 48; x++) {
        img.set(x, y, (x - 24) * (x - 24) + (y - 24) * (y - 24) < 100 ? 60 : 190);
      }
    }
    return img;
  }

  @Test
  void theViewChangesIntensitiesButNotWhereThingsAre() {
    IntImage src = disc();
    for (long seed = 0; seed < 20; seed++) {
      IntImage v = Augment.strongPhotometric(src, new SplittableRandom(seed));
      assertNotEquals(src, v);
      double inside = 0;
      double outside = 0;
      int in = 0;
      int out = 0;
      for (int y = 0; y < 48; y++) {
        for (int x = 0; x < 48; x++) {
          int d = (x - 24) * (x - 24) + (y - 24) * (y - 24);
          if (d < 36) {
            inside += v.get(x, y);
            in++;
          } else if (d > 196) {
            outside += v.get(x, y);
            out++;
          }
          assertTrue(v.get(x, y) >= 0 && v.get(x, y) <= 255);
        }
      }
      assertTrue(inside / in < outside / out, "the disc stays darker than its surround (seed " + seed + ")");
    }
  }

  @Test
  void theSameRandomStreamGivesTheSameView() {
    assertEquals(Augment.strongPhotometric(disc(), new SplittableRandom(4)),
        Augment.strongPhotometric(disc(), new SplittableRandom(4)));
  }
}

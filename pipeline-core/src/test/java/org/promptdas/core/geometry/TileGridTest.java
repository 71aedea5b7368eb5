package org.promptdas.core.geometry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.geometry.TileGrid.SmallSlicePolicy;
import org.promptdas.core.image.IntImage;

class TileGridTest {

  @Test
  void paperInferenceGridOn4096() {
    int[] p = new TileGrid(384, 128, SmallSlicePolicy.REFUSE).positions(4096, "s");
    assertEquals(30, p.length);
    assertEquals(0, p[0]);
    assertEquals(3584, p[28]);
    assertEquals(4096 - 384, p[29]); // clamped to the edge
  }

  @Test
  void nonSquareSliceIsCoveredWithoutLeavingIt() {
    TileGrid g = new TileGrid(384, 384, SmallSlicePolicy.REFUSE);
    assertArrayEquals(new int[] {0, 384, 640}, g.positions(1024, "s"));
    assertArrayEquals(new int[] {0, 384}, g.positions(768, "s"));
    List<Window> ws = g.windows(1024, 768, "s");
    assertEquals(6, ws.size());
    boolean[] covered = new boolean[1024 * 768];
    for (Window w : ws) {
      assertTrue(w.x() + w.width() <= 1024 && w.y() + w.height() <= 768);
      for (int y = w.y(); y < w.y() + w.height(); y++) {
        for (int x = w.x(); x < w.x() + w.width(); x++) {
          covered[y * 1024 + x] = true;
        }
      }
    }
    for (boolean c : covered) {
      assertTrue(c);
    }
    assertArrayEquals(new int[] {0}, g.positions(384, "s"));
  }

  @Test
  void smallSlicesAreRefusedOrPadded() {
    BadInput e = assertThrows(BadInput.class,
        () -> new TileGrid(384, 128, SmallSlicePolicy.REFUSE).windows(300, 500, "tiny.png"));
    assertTrue(e.getMessage().startsWith("tiny.png: 300 px"), e.getMessage());
    List<Window> ws = new TileGrid(384, 128, SmallSlicePolicy.PAD).windows(300, 500, "tiny.png");
    assertEquals(2, ws.size());
    assertEquals(new Window(0, 116, 384, 384), ws.get(1));
    assertThrows(IllegalArgumentException.class, () -> new TileGrid(384, 400, SmallSlicePolicy.PAD));
  }

  @Test
  void cropsCopyInsideAndPadOutside() {
    IntImage img = new IntImage(3, 2, new int[] {1, 2, 3, 4, 5, 6});
    IntImage inside = Crops.extract(img, new Window(1, 0, 2, 2), Crops.Padding.ZERO);
    assertArrayEquals(new int[] {2, 3, 5, 6}, inside.data());
    IntImage zero = Crops.extract(img, new Window(0, 0, 5, 3), Crops.Padding.ZERO);
    assertArrayEquals(new int[] {1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0}, zero.data());
    IntImage mirror = Crops.extract(img, new Window(0, 0, 5, 3), Crops.Padding.REFLECT);
    assertArrayEquals(new int[] {1, 2, 3, 2, 1, 4, 5, 6, 5, 4, 1, 2, 3, 2, 1}, mirror.data());
  }
}

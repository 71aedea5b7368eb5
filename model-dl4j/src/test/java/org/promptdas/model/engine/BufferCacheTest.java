package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

/** {@link BufferCache} reuses buffers across shapes of one length, and only safe ones. */
class BufferCacheTest {
  private static INDArray take(BufferCache c, char order, long... shape) {
    return c.allocate(true, LongShapeDescriptor.fromShape(shape, Nd4j.getStrides(shape, order), 1,
        order, DataType.FLOAT, false));
  }

  @Test
  void aReleasedBufferServesAnyShapeOfItsLengthAndType() {
    BufferCache c = new BufferCache(1 << 20);
    INDArray a = take(c, 'c', 6, 4);
    c.release(a);
    assertEquals(96, c.keptBytes());
    INDArray b = take(c, 'f', 2, 3, 4);
    assertSame(a.data(), b.data(), "same buffer, new shape");
    assertArrayEquals(new long[] {2, 3, 4}, b.shape());
    assertEquals('f', b.ordering());
    assertArrayEquals(new long[] {1, 2, 6}, b.stride());
    assertEquals(0, c.keptBytes());
    b.assign(Nd4j.arange(24).reshape('f', 2, 3, 4));
    assertEquals(23f, b.getFloat(1, 2, 3), 0f, "the new shape indexes the buffer as asked");

    c.release(b);
    assertNotSame(b.data(), take(c, 'c', 25).data(), "another length misses");
    INDArray d = c.allocate(true, DataType.DOUBLE, 3, 4);
    assertNotSame(b.data(), d.data(), "another type misses");
    assertSame(b.data(), take(c, 'c', 24).data());
  }

  @Test
  void aSharedBufferIsKeptOnlyAfterItsLastArrayIsReleased() {
    for (boolean baseFirst : new boolean[] {true, false}) {
      BufferCache c = new BufferCache(1 << 20);
      INDArray base = take(c, 'c', 6, 6);
      // as SameDiff's CreateView makes it: another array on the whole buffer, not flagged a view
      INDArray view = Nd4j.create(base.data(), new long[] {1, 6, 6}, new long[] {36, 6, 1}, 0, 'c');
      assertFalse(view.isView());
      assertSame(base.data(), view.data());
      c.share(view);
      c.release(baseFirst ? base : view);
      assertEquals(0, c.keptBytes(), "the other array still reads the buffer");
      assertNotSame(base.data(), take(c, 'c', 36).data(), "so it is not handed out");
      c.release(baseFirst ? view : base);
      assertEquals(144, c.keptBytes(), "kept once both are released (no double-release error)");
      assertSame(base.data(), take(c, 'c', 36).data());
    }
  }

  @Test
  void theMostRecentlyReleasedBufferComesFirst() {
    BufferCache c = new BufferCache(1 << 20);
    INDArray a = take(c, 'c', 8);
    INDArray b = take(c, 'c', 8);
    c.release(a);
    c.release(b);
    assertSame(b.data(), take(c, 'c', 2, 4).data());
    assertSame(a.data(), take(c, 'c', 4, 2).data());
  }

  @Test
  void theLeastRecentlyReleasedBuffersGoWhenFull() {
    BufferCache c = new BufferCache(100);
    INDArray a = take(c, 'c', 10);
    INDArray b = take(c, 'c', 5);
    INDArray d = take(c, 'c', 12);
    c.release(a);
    c.release(b);
    assertEquals(60, c.keptBytes());
    c.release(d);
    assertTrue(a.data().wasClosed(), "oldest closed to make room");
    assertFalse(b.data().wasClosed());
    assertEquals(68, c.keptBytes());
    INDArray big = take(c, 'c', 26);
    c.release(big);
    assertTrue(big.data().wasClosed(), "larger than the whole cache: closed, not kept");
    assertEquals(68, c.keptBytes());
    c.close();
    assertTrue(b.data().wasClosed() && d.data().wasClosed());
    assertEquals(0, c.keptBytes());
  }

  @Test
  void viewsScalarsAndDoubleReleasesAreNotKept() {
    BufferCache c = new BufferCache(1 << 20);
    INDArray whole = take(c, 'c', 4, 4);
    c.release(whole.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)));
    c.release(Nd4j.scalar(1f));
    assertEquals(0, c.keptBytes());
    c.release(whole);
    assertThrows(IllegalStateException.class, () -> c.release(whole));
  }
}

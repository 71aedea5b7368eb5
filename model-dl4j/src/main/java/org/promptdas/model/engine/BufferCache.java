package org.promptdas.model.engine;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A SameDiff session memory manager that hands a released buffer to the next array of the same
 * data type and <em>length</em>, whatever its shape. SameDiff M2.1's {@code ArrayCacheMemoryMgr}
 * keys its cache by the exact shape, so a [2304, 384] request misses while buffers of
 * [1, 2304, 384], [6, 2304, 64] or [1, 96, 96, 96] sit free, and a training step keeps
 * allocating fresh buffers.
 *
 * <p>A request takes the most recently released buffer of its type and length (still warm in the
 * processor's caches) and wraps it in a new array of the requested shape and order; a miss
 * allocates. A release keeps the buffer unless it is shared (a view, or used elsewhere), in which
 * case it is left alone as {@code ArrayCacheMemoryMgr} does. When the kept buffers would exceed
 * {@code maxBytes}, the least recently released ones are closed. Empty and rank-0 arrays are
 * never kept.
 *
 * <p>Arrays that share a buffer without being flagged as views (SameDiff M2.1's {@code CreateView}
 * output covering its whole input, {@link SharedViews}) are announced by {@link #share}; such a
 * buffer is kept only when the last of its arrays is released.
 *
 * <p>Not thread-safe, like SameDiff's own managers: one session at a time.
 */
final class BufferCache extends AbstractMemoryMgr {
  private final long maxBytes;
  private final Map<Key, ArrayDeque<Slot>> free = new HashMap<>();
  /** Every kept buffer, least recently released first (slots compare by identity). */
  private final Set<Slot> byAge = new LinkedHashSet<>();
  /** Kept buffers by identity: {@code DataBuffer.equals} compares contents. */
  private final Map<DataBuffer, Slot> kept = new IdentityHashMap<>();
  /** Buffers with arrays still to be released besides the one released last: how many. */
  private final Map<DataBuffer, Integer> sharers = new IdentityHashMap<>();
  private long keptBytes;

  BufferCache(long maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes held by kept buffers now. */
  long keptBytes() {
    return keptBytes;
  }

  @Override
  public INDArray allocate(boolean detached, DataType dataType, long... shape) {
    return allocate(detached, LongShapeDescriptor.fromShape(shape, dataType));
  }

  @Override
  public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
    long[] shape = descriptor.getShape();
    if (descriptor.isEmpty() || shape.length == 0) {
      return Nd4j.create(descriptor).detach();
    }
    char order = descriptor.getOrder();
    DataBuffer buffer = take(new Key(descriptor.dataType(), ArrayUtil.prodLong(shape)));
    if (buffer == null) {
      return Nd4j.createUninitializedDetached(descriptor.dataType(), order, shape);
    }
    return Nd4j.create(buffer, shape, Nd4j.getStrides(shape, order), 0, order);
  }

  /** Records that {@code view} shares its buffer with an array this session also releases. */
  void share(INDArray view) {
    sharers.merge(view.data(), 1, Integer::sum);
  }

  @Override
  public void release(INDArray array) {
    DataBuffer buffer = array.data();
    Integer others = buffer == null ? null : sharers.get(buffer);
    if (others != null) {
      if (others == 1) {
        sharers.remove(buffer);
      } else {
        sharers.put(buffer, others - 1);
      }
      return;
    }
    if (buffer == null || array.isEmpty() || array.rank() == 0 || array.isView()
        || array.length() != buffer.length() || buffer.wasClosed()
        || Nd4j.getExecutioner().useCount(buffer) > 1) {
      return;
    }
    if (kept.containsKey(buffer)) {
      throw new IllegalStateException("buffer released twice: " + array.shapeInfoToString());
    }
    Slot slot = new Slot(buffer, new Key(buffer.dataType(), buffer.length()));
    if (slot.bytes() > maxBytes) {
      if (array.closeable()) {
        array.close();
      }
      return;
    }
    Iterator<Slot> oldest = byAge.iterator();
    while (keptBytes + slot.bytes() > maxBytes) {
      Slot old = oldest.next();
      oldest.remove();
      free.get(old.key).remove(old);
      forget(old);
      old.buffer.close();
    }
    free.computeIfAbsent(slot.key, k -> new ArrayDeque<>()).push(slot);
    byAge.add(slot);
    kept.put(buffer, slot);
    keptBytes += slot.bytes();
  }

  @Override
  public void close() {
    sharers.clear();
    byAge.forEach(s -> s.buffer.close());
    byAge.clear();
    free.clear();
    kept.clear();
    keptBytes = 0;
  }

  private DataBuffer take(Key key) {
    ArrayDeque<Slot> stack = free.get(key);
    while (stack != null && !stack.isEmpty()) {
      Slot s = stack.pop();
      byAge.remove(s);
      forget(s);
      if (!s.buffer.wasClosed()) {
        return s.buffer;
      }
    }
    return null;
  }

  private void forget(Slot s) {
    kept.remove(s.buffer);
    keptBytes -= s.bytes();
  }

  private record Key(DataType type, long length) {
  }

  /** A kept buffer; compares by identity so that equal contents never merge two slots. */
  private static final class Slot {
    final DataBuffer buffer;
    final Key key;

    Slot(DataBuffer buffer, Key key) {
      this.buffer = buffer;
      this.key = key;
    }

    long bytes() {
      return key.length * key.type.width();
    }
  }
}

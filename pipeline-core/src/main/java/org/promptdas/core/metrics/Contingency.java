package org.promptdas.core.metrics;

import java.util.Arrays;
import org.promptdas.core.labels.Components;

/**
 * The sparse overlap table of two instance labellings of the same slice: the area of every
 * ground-truth and every predicted instance and the intersection of every overlapping pair, built
 * in one pass over the pixels (a primitive hash of pair -> count, with a one-entry cache for runs
 * of the same pair). Pairs are kept sorted by (gt id, pred id).
 */
public final class Contingency {
  private final int gtCount;
  private final int predCount;
  private final long[] gtArea;
  private final long[] predArea;
  private final int[] pairGt;
  private final int[] pairPred;
  private final long[] pairInter;

  private Contingency(Components gt, Components pred, int[] pairGt, int[] pairPred, long[] inter) {
    this.gtCount = gt.count();
    this.predCount = pred.count();
    this.gtArea = gt.areas();
    this.predArea = pred.areas();
    this.pairGt = pairGt;
    this.pairPred = pairPred;
    this.pairInter = inter;
  }

  public static Contingency of(Components gt, Components pred) {
    int[] g = gt.labels().data();
    int[] p = pred.labels().data();
    if (g.length != p.length) {
      throw new IllegalArgumentException("label images differ in size");
    }
    LongCounter counts = new LongCounter();
    long lastKey = -1;
    int run = 0;
    for (int i = 0; i < g.length; i++) {
      int a = g[i];
      int b = p[i];
      if (a == 0 || b == 0) {
        continue;
      }
      long key = ((long) a << 32) | b;
      if (key == lastKey) {
        run++;
      } else {
        if (run > 0) {
          counts.add(lastKey, run);
        }
        lastKey = key;
        run = 1;
      }
    }
    if (run > 0) {
      counts.add(lastKey, run);
    }
    long[] keys = counts.keys();
    Arrays.sort(keys);
    int[] pg = new int[keys.length];
    int[] pp = new int[keys.length];
    long[] inter = new long[keys.length];
    for (int k = 0; k < keys.length; k++) {
      pg[k] = (int) (keys[k] >>> 32);
      pp[k] = (int) keys[k];
      inter[k] = counts.get(keys[k]);
    }
    return new Contingency(gt, pred, pg, pp, inter);
  }

  public int gtCount() {
    return gtCount;
  }

  public int predCount() {
    return predCount;
  }

  public long gtArea(int id) {
    return gtArea[id];
  }

  public long predArea(int id) {
    return predArea[id];
  }

  /** Number of overlapping (gt, pred) pairs. */
  public int pairs() {
    return pairGt.length;
  }

  public int pairGt(int k) {
    return pairGt[k];
  }

  public int pairPred(int k) {
    return pairPred[k];
  }

  public long pairIntersection(int k) {
    return pairInter[k];
  }

  public long pairUnion(int k) {
    return gtArea[pairGt[k]] + predArea[pairPred[k]] - pairInter[k];
  }

  /** Open-addressing long -> long counter for positive keys. */
  private static final class LongCounter {
    private long[] keys = new long[1024];
    private long[] values = new long[1024];
    private int size;

    void add(long key, long delta) {
      int mask = keys.length - 1;
      int i = (int) (mix(key) & mask);
      while (keys[i] != 0 && keys[i] != key) {
        i = (i + 1) & mask;
      }
      if (keys[i] == 0) {
        keys[i] = key;
        if (++size * 2 > keys.length) {
          values[i] += delta;
          grow();
          return;
        }
      }
      values[i] += delta;
    }

    long get(long key) {
      int mask = keys.length - 1;
      int i = (int) (mix(key) & mask);
      while (keys[i] != key) {
        i = (i + 1) & mask;
      }
      return values[i];
    }

    long[] keys() {
      long[] out = new long[size];
      int n = 0;
      for (long k : keys) {
        if (k != 0) {
          out[n++] = k;
        }
      }
      return out;
    }

    private void grow() {
      long[] ok = keys;
      long[] ov = values;
      keys = new long[ok.length * 2];
      values = new long[ok.length * 2];
      size = 0;
      for (int i = 0; i < ok.length; i++) {
        if (ok[i] != 0) {
          add(ok[i], ov[i]);
        }
      }
    }

    private static long mix(long z) {
      z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
      return z ^ (z >>> 33);
    }
  }
}

package org.promptdas.core.labels;

import java.util.HashMap;
import java.util.Map;
import org.promptdas.core.image.IntImage;

/**
 * Instance labellings of label images, for both label conventions: binary masks (instances are
 * their 8-connected components) and instance-id images (each non-zero value is one instance,
 * whether or not its pixels touch). Stateless and thread-safe.
 */
public final class Instances {
  private Instances() {}

  /**
   * Instances of a label image of either convention: its ids when it holds several non-zero
   * values (instance-id labels), else the 8-connected components of its mask (binary labels,
   * whose instances are their components).
   */
  public static Components of(IntImage label) {
    int first = 0;
    for (int v : label.data()) {
      if (v != 0) {
        if (first == 0) {
          first = v;
        } else if (v != first) {
          return ofIds(label);
        }
      }
    }
    return ConnectedComponents.label(label, Connectivity.EIGHT);
  }

  /** Instances of a binary mask: its connected components. */
  public static Components ofMask(IntImage mask, Connectivity connectivity) {
    return ConnectedComponents.label(mask, connectivity);
  }

  /**
   * Instances of an id image, renumbered 1..n in order of first appearance (raster order); ids
   * need not be contiguous.
   */
  public static Components ofIds(IntImage ids) {
    int[] src = ids.data();
    int[] out = new int[src.length];
    Map<Integer, Integer> remap = new HashMap<>();
    int last = 0;
    int lastId = 0;
    for (int i = 0; i < src.length; i++) {
      int v = src[i];
      if (v == 0) {
        continue;
      }
      if (v != last) {
        Integer id = remap.get(v);
        if (id == null) {
          id = remap.size() + 1;
          remap.put(v, id);
        }
        last = v;
        lastId = id;
      }
      out[i] = lastId;
    }
    return Components.ofCompact(new IntImage(ids.width(), ids.height(), out), remap.size());
  }

  /**
   * A copy of a binary mask without its components of at most {@code maxSize} pixels (the paper's
   * post-processing uses 8-connectivity and 15 px). {@code maxSize <= 0} returns a binarised copy.
   */
  public static IntImage removeSmall(IntImage mask, int maxSize, Connectivity connectivity) {
    IntImage bin = mask.binarize();
    if (maxSize <= 0) {
      return bin;
    }
    Components cc = ConnectedComponents.label(bin, connectivity);
    int[] lab = cc.labels().data();
    int[] out = bin.data();
    for (int i = 0; i < out.length; i++) {
      if (lab[i] != 0 && cc.area(lab[i]) <= maxSize) {
        out[i] = 0;
      }
    }
    return bin;
  }
}

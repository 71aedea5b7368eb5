package org.promptdas.model.engine;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The ops the network's layers build on, each in a form that SameDiff M2.1 runs well: one
 * implementation for graphs that are differentiated ({@link Engine#trainingOps}: ops whose
 * gradients exist and are fast, recorded for the backward graph's {@link BackwardRewrites}) and one
 * for forward passes only ({@link Engine#forwardOps}: faster ops without gradients, views instead
 * of copies). Both compute the same values up to rounding. Not thread-safe: an instance appends to
 * one graph.
 */
public interface GraphOps {
  /** y [rows, n] + bias [n] ({@code rows} 0 where unknown). */
  SDVariable addBias(SDVariable y, SDVariable bias, long rows, long n);

  /** x [rows, n] * weight [n], each row scaled alike ({@code rows} 0 where unknown). */
  SDVariable scaleRows(SDVariable x, SDVariable weight, long rows, long n);

  /** x * s with s broadcast to x's shape (NumPy's rules), shapes unknown. */
  SDVariable scaled(SDVariable x, SDVariable s);

  /** x * s, x of rank {@code rank}, s of shape {@code sShape} broadcast over it. */
  SDVariable scaled(SDVariable x, int rank, SDVariable s, long... sShape);

  /** x + y, x of rank {@code rank}, y of shape {@code yShape} broadcast over it. */
  SDVariable broadcastAdd(SDVariable x, int rank, SDVariable y, long... yShape);

  /** x - y, as {@link #broadcastAdd}. */
  SDVariable broadcastSub(SDVariable x, int rank, SDVariable y, long... yShape);

  /** Marks x (of {@code shape}) as cut into slices that tile it; returns x. */
  SDVariable tiled(SDVariable x, long... shape);

  /** The softmax over the last axis of attention scores [n, n]. */
  SDVariable softmaxRows(SDVariable scores, long n);

  /**
   * k x k convolution (k odd, stride 1, padding k / 2: the size is kept) of channels-last x
   * {@code shape} [b, h, w, cin], weight YXIO [k, k, cin, cout], bias [cout].
   */
  SDVariable sizeKeepingConv(SDVariable x, SDVariable weight, SDVariable bias, int k, long[] shape);

  /** The sums [b, c] of channels-last x [b, n, n, c] over its pixels. */
  SDVariable pixelSums(SDVariable x, int b, int n, int c);

  /**
   * Bilinear x2 upsampling (align_corners false, edges clamped, as PyTorch's) of x of the given
   * shape along axes {@code hAxis} and {@code wAxis} ((1, 2) for [b, h, w, c] or [b, h, w]).
   */
  SDVariable upsample2x(SDVariable x, long[] shape, int hAxis, int wAxis);
}

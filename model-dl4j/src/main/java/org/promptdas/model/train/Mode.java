package org.promptdas.model.train;

/** What the target domain contributes to training. */
public enum Mode {
  /** Source labels only (the paper's "source model"). */
  SOURCE_ONLY,
  /** Unlabelled target: the teacher's confident detections stand in for sparse points. */
  UDA,
  /** Sparse points on a fraction of the target instances (the paper: 15%). */
  WDA,
  /** Full target labels (the upper bound). */
  ORACLE
}

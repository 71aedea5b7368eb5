package org.promptdas.core.metrics;

/** How ground-truth instances are formed. Predicted instances are always connected components. */
public enum Protocol {
  /**
   * The paper's protocol (and {@code metrics_ref.py}): ground truth binarised (non-zero =
   * mitochondria) and split into 8-connected components, so touching mitochondria count as one.
   */
  BINARY,
  /** Ground truth given as instance ids: every non-zero value is one instance. */
  INSTANCE;

  public static Protocol parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("protocol must be 'binary' or 'instance', got '" + s + "'");
    }
  }
}

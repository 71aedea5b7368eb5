package org.promptdas.core.labels;

/** Pixel adjacency for connected components: edges only (4) or edges and corners (8). */
public enum Connectivity {
  FOUR,
  EIGHT;

  /** 4 or 8, as the protocol and the configuration write it. */
  public static Connectivity of(int n) {
    return switch (n) {
      case 4 -> FOUR;
      case 8 -> EIGHT;
      default -> throw new IllegalArgumentException("connectivity must be 4 or 8, got " + n);
    };
  }
}

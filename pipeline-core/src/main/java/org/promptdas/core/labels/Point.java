package org.promptdas.core.labels;

/** A pixel position: column {@code x}, row {@code y}. */
public record Point(int x, int y) implements java.io.Serializable {}

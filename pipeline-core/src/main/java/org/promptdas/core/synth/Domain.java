package org.promptdas.core.synth;

import java.util.List;
import java.util.Locale;

/**
 * The look of one synthetic EM domain. Two presets differ the way real source and target domains
 * do: {@link #SOURCE} resembles serial-section TEM (large elongated mitochondria with dark matrix,
 * thick membranes, little noise); {@link #TARGET} resembles FIB-SEM (smaller rounder mitochondria,
 * lighter and lower-contrast matrix, more vesicles, blur and heavy noise).
 *
 * @param mitoPerMegapixel mean number of mitochondria per 10^6 px
 * @param majorAxis range of the semi-major axis in px
 * @param aspect range of minor/major axis ratio
 * @param background mean cytoplasm grey level
 * @param textureAmplitude amplitude of the smooth cytoplasm texture (grey levels)
 * @param matrix grey level of the mitochondrial matrix
 * @param membrane grey level of membranes (mitochondrial and cell)
 * @param cristaeSpacing period of cristae along the major axis in px (0: none)
 * @param cellsPerMegapixel cells (membrane-bounded regions) per 10^6 px
 * @param vesiclesPerMegapixel unlabelled distractor vesicles per 10^6 px
 * @param blur box-blur radius in px applied before noise
 * @param noise standard deviation of the additive Gaussian noise (grey levels)
 */
public record Domain(
    String name,
    double mitoPerMegapixel,
    double[] majorAxis,
    double[] aspect,
    double background,
    double textureAmplitude,
    double matrix,
    double membrane,
    double cristaeSpacing,
    double cellsPerMegapixel,
    double vesiclesPerMegapixel,
    int blur,
    double noise) {

  public static final Domain SOURCE = new Domain("source", 90, new double[] {14, 34},
      new double[] {0.35, 0.7}, 175, 18, 85, 35, 7, 40, 60, 0, 6);

  public static final Domain TARGET = new Domain("target", 140, new double[] {9, 20},
      new double[] {0.6, 0.95}, 140, 28, 105, 60, 5, 25, 180, 1, 16);

  public static final List<Domain> PRESETS = List.of(SOURCE, TARGET);

  /** The preset called {@code name} ("source" or "target"). */
  public static Domain named(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return PRESETS.stream().filter(d -> d.name().equals(n)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no synthetic domain '" + name
            + "'; known: " + PRESETS.stream().map(Domain::name).toList()));
  }
}

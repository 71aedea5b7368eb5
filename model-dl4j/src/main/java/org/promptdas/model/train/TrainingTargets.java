package org.promptdas.model.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.CentrePoints;
import org.promptdas.core.labels.Components;
import org.promptdas.core.labels.ConnectedComponents;
import org.promptdas.core.labels.Connectivity;
import org.promptdas.core.labels.DensityMap;
import org.promptdas.core.labels.Instances;
import org.promptdas.core.labels.Peaks;
import org.promptdas.core.labels.Point;

/**
 * What each crop of a training step is trained towards ({@link Trainer}): from its labels (source
 * and oracle crops) or from the teacher's output (UDA and WDA target crops), with the crop's
 * training prompts and contrastive points. Every random choice comes from the step's random source.
 * Stateless apart from its settings; thread-safe.
 */
final class TrainingTargets {
  /** Peaks of a density map closer than this many px are one detection (the authors' NMS window). */
  static final int PEAK_RADIUS = 5;
  /** A detection within this many px (per axis) of a known point is the same instance. */
  static final int DUPLICATE_RADIUS = 2;

  private final TrainConfig cfg;
  private final int n;
  private final int slots;
  private final int queries;
  private final int backgrounds;

  /**
   * @param n the crop size in px
   * @param queries contrastive query slots per crop (0 without contrastive learning)
   * @param backgrounds contrastive background slots per crop
   */
  TrainingTargets(TrainConfig cfg, int n, int queries, int backgrounds) {
    this.cfg = cfg;
    this.n = n;
    this.slots = cfg.maxPrompts();
    this.queries = queries;
    this.backgrounds = backgrounds;
  }

  /**
   * Everything one crop contributes to a step.
   *
   * @param segWeight per pixel, the weight of its segmentation target (0: unsupervised)
   * @param detSupervised whether the density target is supervised
   * @param sparsePrompts how many of the leading prompts anchor the contrastive loss
   */
  record Row(IntImage image, float[] segTarget, float[] segWeight, float[] density,
      boolean detSupervised, List<Point> prompts, int sparsePrompts, List<Point> queries,
      List<Point> backgrounds) {}

  /**
   * A labelled crop: its mask, its centres' density map, and n_s of its centres as prompts (none
   * for a prompt-free crop, else n_s drawn from 1..min(centres, slots)).
   */
  Row labelled(Sample s, long step, SplittableRandom rnd) {
    IntImage label = s.label();
    if (label == null) {
      throw new IllegalArgumentException("a labelled crop is needed here (source or oracle)");
    }
    List<Point> centres = CentrePoints.of(Instances.of(label));
    float[] seg = new float[n * n];
    for (int i = 0; i < seg.length; i++) {
      seg[i] = label.data()[i] != 0 ? 1 : 0;
    }
    float[] ones = new float[n * n];
    Arrays.fill(ones, 1);
    List<Point> shuffled = new ArrayList<>(centres);
    Collections.shuffle(shuffled, new Random(rnd.nextLong()));
    int max = Math.min(centres.size(), slots);
    int ns = cfg.prompted(step, rnd) && max > 0 ? 1 + rnd.nextInt(max) : 0;
    return new Row(s.image(), seg, ones, DensityMap.render(centres, n, n, cfg.sigma()), true,
        new ArrayList<>(shuffled.subList(0, ns)), 0, List.of(), List.of());
  }

  /** The prompts the teacher sees for a target crop: WDA's sparse points, none in UDA. */
  List<Point> teacherPrompts(Sample s) {
    return cfg.mode() == Mode.WDA ? limit(s.points(), slots) : List.of();
  }

  /**
   * A target crop from the teacher's output on it: pseudo-labels on the confident pixels, a density
   * target from the sparse and the detected points, those points as prompts (none for a prompt-free
   * crop), and contrastive points when the crop is prompted and has sparse points. In UDA the
   * teacher's confident detections stand in for the sparse points.
   *
   * @param p the teacher's foreground probability per pixel
   * @param density the teacher's density map
   */
  Row pseudoLabelled(Sample crop, float[] p, float[] density, long step, SplittableRandom rnd) {
    List<Point> detected = new ArrayList<>();
    for (Peaks.Peak pk : Peaks.find(density, n, n, (float) cfg.peakThreshold(), PEAK_RADIUS, slots)) {
      detected.add(pk.point());
    }
    List<Point> sparse = limit(cfg.mode() == Mode.WDA ? crop.points()
        : detected.stream().filter(q -> p[q.y() * n + q.x()] > cfg.foregroundConfidence()).toList(), slots);
    float[] segT = new float[n * n];
    float[] segW = new float[n * n];
    for (int k = 0; k < segT.length; k++) {
      segT[k] = p[k] > 0.5f ? 1 : 0;
      boolean confident = p[k] > cfg.foregroundConfidence() || p[k] < cfg.backgroundConfidence();
      segW[k] = cfg.segmentationPseudoLabels() && confident ? 1 : 0;
    }
    List<Point> targetPoints = new ArrayList<>(sparse);
    for (Point d : detected) {
      if (!near(d, targetPoints)) {
        targetPoints.add(d);
      }
    }
    boolean prompted = cfg.prompted(step, rnd) && cfg.trainingPrompts();
    List<Point> prompts = prompted ? limit(targetPoints, slots) : List.of();
    List<Point> q = new ArrayList<>();
    List<Point> bg = new ArrayList<>();
    boolean pcl = queries > 0 && prompted && !sparse.isEmpty();
    if (pcl) {
      contrastivePoints(p, rnd, q, bg);
    }
    IntImage view = cfg.strongTargetView() ? Augment.strongPhotometric(crop.image(), rnd) : crop.image();
    return new Row(view, segT, segW, DensityMap.render(targetPoints, n, n, cfg.sigma()),
        cfg.detectionPseudoLabels(), prompts, pcl ? sparse.size() : 0, q, bg);
  }

  /**
   * Reweighs the confident pixels of pseudo-labelled rows so that together they weigh as much as
   * the {@code sourcePixels} labelled pixels (each of weight 1), {@code foregroundShare} of it on
   * the target's foreground and the rest on its background ({@link TrainConfig#balancedPseudoLabels}).
   * At a share of one half the segmentation loss, a weighted mean, becomes half the source's mean
   * plus a quarter of each target class's mean. A class without confident pixels adds nothing.
   */
  static void balance(List<Row> rows, long sourcePixels, double foregroundShare) {
    balance(rows.stream().map(Row::segTarget).toList(), rows.stream().map(Row::segWeight).toList(),
        sourcePixels, foregroundShare);
  }

  /** The share of foreground among the labelled pixels of {@code rows} (0 for none). */
  static double foregroundShare(List<Row> rows) {
    double fg = 0;
    long pixels = 0;
    for (Row r : rows) {
      for (float t : r.segTarget()) {
        fg += t;
      }
      pixels += r.segTarget().length;
    }
    return pixels == 0 ? 0 : fg / pixels;
  }

  /** {@link #balance(List, long, double)} on the rows' targets and weights (the weights are changed). */
  static void balance(List<float[]> targets, List<float[]> weights, long sourcePixels, double foregroundShare) {
    double fg = 0;
    double bg = 0;
    for (int i = 0; i < targets.size(); i++) {
      float[] t = targets.get(i);
      float[] w = weights.get(i);
      for (int k = 0; k < w.length; k++) {
        if (w[k] > 0) {
          fg += t[k];
          bg += 1 - t[k];
        }
      }
    }
    float wf = fg > 0 ? (float) (sourcePixels * foregroundShare / fg) : 0;
    float wb = bg > 0 ? (float) (sourcePixels * (1 - foregroundShare) / bg) : 0;
    for (int i = 0; i < targets.size(); i++) {
      float[] t = targets.get(i);
      float[] w = weights.get(i);
      for (int k = 0; k < w.length; k++) {
        if (w[k] > 0) {
          w[k] = t[k] > 0 ? wf : wb;
        }
      }
    }
  }

  /** Up to 3 points in each confident instance (queries) and N^n confident background points. */
  private void contrastivePoints(float[] p, SplittableRandom rnd, List<Point> q, List<Point> bg) {
    IntImage fg = new IntImage(n, n);
    List<Integer> background = new ArrayList<>();
    for (int k = 0; k < p.length; k++) {
      if (p[k] > cfg.foregroundConfidence()) {
        fg.data()[k] = 1;
      } else if (p[k] < cfg.backgroundConfidence()) {
        background.add(k);
      }
    }
    Components cc = ConnectedComponents.label(fg, Connectivity.EIGHT);
    List<List<Integer>> members = new ArrayList<>();
    for (int c = 0; c < cc.count(); c++) {
      members.add(new ArrayList<>());
    }
    for (int k = 0; k < p.length; k++) {
      int l = cc.labels().data()[k];
      if (l > 0) {
        members.get(l - 1).add(k);
      }
    }
    for (List<Integer> m : members) {
      for (int j = 0; j < cfg.queriesPerInstance() && q.size() < queries; j++) {
        int k = m.get(rnd.nextInt(m.size()));
        q.add(new Point(k % n, k / n));
      }
    }
    for (int j = 0; j < backgrounds && !background.isEmpty(); j++) {
      int k = background.get(rnd.nextInt(background.size()));
      bg.add(new Point(k % n, k / n));
    }
  }

  private static boolean near(Point a, List<Point> others) {
    for (Point o : others) {
      if (Math.abs(o.x() - a.x()) <= DUPLICATE_RADIUS && Math.abs(o.y() - a.y()) <= DUPLICATE_RADIUS) {
        return true;
      }
    }
    return false;
  }

  private static List<Point> limit(List<Point> pts, int max) {
    return pts.size() <= max ? pts : new ArrayList<>(pts.subList(0, max));
  }
}

package org.promptdas.model.train;

import java.util.List;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;

/**
 * One training crop: the image, its instance labels (ids or a binary mask; null for unlabelled
 * target crops) and its sparse annotated points (WDA; empty otherwise).
 */
public record Sample(IntImage image, IntImage label, List<Point> points) {}

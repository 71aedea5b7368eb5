package org.promptdas.jobs.training;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.geometry.Crops;
import org.promptdas.core.geometry.Window;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.labels.Point;
import org.promptdas.model.train.Sample;

/**
 * One crop of a {@code tile} dataset as training data: a stable key ({@code volume/slice/y/x}, the
 * order in which crops are dealt to workers), the image and label as the PNG bytes tile wrote (decoded
 * only when a step draws the crop) and the crop-relative sparse points.
 *
 * @param label PNG bytes, or null for unlabelled target crops
 * @param points x0, y0, x1, y1, ... (empty when the crop has none)
 */
public record CropRecord(String key, byte[] image, byte[] label, int[] points) implements Serializable {

  /** Reads a row of tile's schema; {@code withLabel}/{@code withPoints} choose what is kept. */
  public static CropRecord of(Row r, boolean withLabel, boolean withPoints) {
    String key = r.<String>getAs("volume") + "/" + r.<Integer>getAs("slice") + "/"
        + r.<Integer>getAs("y") + "/" + r.<Integer>getAs("x");
    byte[] label = withLabel ? r.getAs("label") : null;
    int[] pts = new int[0];
    int at = r.fieldIndex("points");
    if (withPoints && !r.isNullAt(at)) {
      List<Row> list = r.getList(at);
      pts = new int[2 * list.size()];
      for (int i = 0; i < list.size(); i++) {
        pts[2 * i] = list.get(i).getInt(0);
        pts[2 * i + 1] = list.get(i).getInt(1);
      }
    }
    return new CropRecord(key, r.getAs("image"), label, pts);
  }

  /**
   * The training sample: a random {@code size} x {@code size} window of the crop (the whole crop when
   * it has that size) with its label and the points inside it.
   *
   * @throws BadInput if the crop is smaller than {@code size} or cannot be decoded
   */
  public Sample sample(int size, SplittableRandom rnd) {
    IntImage img = ImageReaders.readSingle("crop " + key + " (image)", image);
    if (img.width() < size || img.height() < size) {
      throw new BadInput("crop " + key + ": " + img.width() + "x" + img.height()
          + " is smaller than the network's input " + size + " (tile with crop >= " + size + ")");
    }
    int x = rnd.nextInt(img.width() - size + 1);
    int y = rnd.nextInt(img.height() - size + 1);
    Window w = new Window(x, y, size, size);
    IntImage lab = label == null ? null
        : Crops.extract(ImageReaders.readSingle("crop " + key + " (label)", label), w, Crops.Padding.ZERO);
    List<Point> inside = new ArrayList<>();
    for (int i = 0; i < points.length; i += 2) {
      if (points[i] >= x && points[i + 1] >= y && points[i] < x + size && points[i + 1] < y + size) {
        inside.add(new Point(points[i] - x, points[i + 1] - y));
      }
    }
    return new Sample(Crops.extract(img, w, Crops.Padding.ZERO), lab, inside);
  }
}

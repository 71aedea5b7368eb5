package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.geometry.Crops;
import org.promptdas.core.geometry.Window;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;

class TileStageTest {
  @TempDir Path tmp;

  private static SparkSession spark() {
    return SparkSession.builder().getOrCreate();
  }

  @Test
  void folderOfSlicesWithLabelsAndPointsBecomesCrops() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.TARGET, 2, 200, 150);
    Files.writeString(tmp.resolve("points.csv"), "volume,slice,x,y\nmyvol,1,130,20\nmyvol,1,5,140\n");
    Path out = tmp.resolve("crops");
    TestData.Run r = TestData.run("tile", "--images", tmp.resolve("vol/img").toString(),
        "--labels", tmp.resolve("vol/lab").toString(), "--points", tmp.resolve("points.csv").toString(),
        "--volume", "myvol", "--crop", "96", "--stride", "64", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    List<Row> rows = spark().read().parquet(out.toString()).orderBy("slice", "y", "x").collectAsList();
    // x positions 0,64,104 and y positions 0,54 per slice: 6 crops, 2 slices
    assertEquals(12, rows.size());
    Row first = rows.get(7); // slice 1, y 0, x 64
    assertEquals("myvol", first.getAs("volume"));
    assertEquals(1, (int) first.getAs("slice"));
    assertEquals("s01.png", first.getAs("slice_name"));
    assertEquals(64, (int) first.getAs("x"));
    assertEquals(0, (int) first.getAs("y"));
    SynthEm.Sample s1 = SynthEm.generate(Domain.TARGET, 200, 150, 101);
    Window w = new Window(64, 0, 96, 96);
    assertEquals(Crops.extract(s1.image(), w, Crops.Padding.REFLECT),
        ImageReaders.readSingle("crop", (byte[]) first.getAs("image")));
    assertEquals(Crops.extract(s1.labels(), w, Crops.Padding.ZERO),
        ImageReaders.readSingle("label", (byte[]) first.getAs("label")));
    List<Row> pts = first.getList(first.fieldIndex("points"));
    assertEquals(1, pts.size());
    assertEquals(130 - 64, pts.get(0).getInt(0));
    assertEquals(20, pts.get(0).getInt(1));
    assertTrue(rows.get(0).getList(rows.get(0).fieldIndex("points")).isEmpty(), "slice 0 has no points");
  }

  @Test
  void hdf5VolumeAndUnlabelledSlices() throws Exception {
    int[][][] vol = new int[3][100][120];
    for (int z = 0; z < 3; z++) {
      vol[z][10][z] = 7;
    }
    Path h5 = tmp.resolve("labels.h5");
    try (WritableHdfFile f = HdfFile.write(h5)) {
      f.putDataset("main", vol);
    }
    Path out = tmp.resolve("crops");
    TestData.Run r = TestData.run("tile", "--images", h5 + "#main", "--crop", "64", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    List<Row> rows = spark().read().parquet(out.toString()).collectAsList();
    assertEquals(3 * 4, rows.size());
    assertEquals("labels", rows.get(0).getAs("volume"));
    assertNull(rows.get(0).getAs("label"));
    Row z2 = rows.stream().filter(x -> (int) x.getAs("slice") == 2 && (int) x.getAs("x") == 0
        && (int) x.getAs("y") == 0).findFirst().orElseThrow();
    assertEquals("labels_z0002", z2.getAs("slice_name"));
    assertEquals(7, ImageReaders.readSingle("c", (byte[]) z2.getAs("image")).get(2, 10));
  }

  @Test
  void labelIdsBeyondSixteenBitsAreRenumberedWithinTheCrop() {
    IntImage label = new IntImage(8, 8);
    label.set(1, 1, 70_000);
    label.set(5, 5, 123_456);
    label.set(6, 5, 123_456);
    IntImage crop = org.promptdas.jobs.stages.TileStage.labelCrop(label, new Window(0, 0, 8, 8));
    assertEquals(1, crop.get(1, 1));
    assertEquals(2, crop.get(5, 5));
    assertEquals(2, crop.get(6, 5));
    label.set(1, 1, 300);
    label.set(5, 5, 7);
    label.set(6, 5, 7);
    assertEquals(300, org.promptdas.jobs.stages.TileStage.labelCrop(label, new Window(0, 0, 8, 8)).get(1, 1));
  }

  @Test
  void badInputsFailBeforeWorkAndWriteNothing() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.SOURCE, 2, 120, 100);
    Path out = tmp.resolve("crops");
    Files.delete(tmp.resolve("vol/lab/s01.png"));
    assertFails("s01.png", "tile", "--images", tmp.resolve("vol/img").toString(), "--labels",
        tmp.resolve("vol/lab").toString(), "--crop", "64", "--out", out.toString());
    TestData.png(tmp.resolve("vol/lab/s01.png"), new IntImage(121, 100));
    assertFails("is 120x100 but its label", "tile", "--images", tmp.resolve("vol/img").toString(),
        "--labels", tmp.resolve("vol/lab").toString(), "--crop", "64", "--out", out.toString());
    Files.write(tmp.resolve("vol/img/s01.png"), new byte[] {1, 2, 3});
    assertFails("s01.png: unsupported format", "tile", "--images", tmp.resolve("vol/img").toString(),
        "--crop", "64", "--out", out.toString());
    assertFails("smaller than the crop", "tile", "--images", tmp.resolve("vol/img/s00.png").toString(),
        "--crop", "384", "--out", out.toString());
    assertFails("no such file or folder", "tile", "--images", tmp.resolve("nope").toString(),
        "--out", out.toString());
    Files.writeString(tmp.resolve("p.csv"), "volume,slice,x,y\nimg,0,500,5\n");
    assertFails("lies outside slice 0", "tile", "--images", tmp.resolve("vol/img/s00.png").toString(),
        "--points", tmp.resolve("p.csv").toString(), "--volume", "img", "--crop", "64",
        "--out", out.toString());
    assertFalse(Files.exists(out));
    try (Stream<Path> left = Files.list(tmp)) {
      assertTrue(left.noneMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary folders left");
    }
  }

  private static void assertFails(String expected, String... args) {
    TestData.Run r = TestData.run(args);
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains(expected), r.err());
    assertFalse(r.err().contains("\tat "), "a user error prints no stack trace: " + r.err());
  }
}

package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.io.zarr.Blosc;
import org.promptdas.core.io.zarr.LocalStore;
import org.promptdas.core.io.zarr.OmeZarr;
import org.promptdas.core.io.zarr.ZarrArray;
import org.promptdas.core.synth.Domain;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/** Zarr and OME-Zarr through the stages: inputs to tile, infer and evaluate; infer's outputs. */
class ZarrStagesTest {
  @TempDir Path tmp;

  /** The slices of {@code folder} as an OME-Zarr image at {@code zarr}. */
  static void toZarr(Path folder, Path zarr, int n) throws Exception {
    ZarrArray a = null;
    for (int z = 0; z < n; z++) {
      IntImage img = ImageReaders.readSingle(folder.resolve(String.format("s%02d.png", z)));
      if (a == null) {
        a = OmeZarr.createImage(new LocalStore(zarr), "test", n, img.height(), img.width(), 32, new Blosc("lz4", 5, 1, 1));
      }
      byte[] plane = new byte[img.size()];
      for (int i = 0; i < plane.length; i++) {
        plane[i] = (byte) Math.min(255, img.data()[i]);
      }
      a.writePlane(z, plane);
    }
  }

  @Test
  void zarrInputsAndOutputsGiveWhatPngsGive() throws Exception {
    TestData.slices(tmp.resolve("d"), Domain.TARGET, 2, 80, 72);
    toZarr(tmp.resolve("d/img"), tmp.resolve("img.zarr"), 2);
    toZarr(tmp.resolve("d/lab"), tmp.resolve("lab.zarr"), 2);
    Path model = tmp.resolve("m.pdas");
    ModelFile.save(new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 3)), model);

    // tile reads the same crops from either
    assertEquals(0, TestData.run("tile", "--images", tmp.resolve("d/img").toString(), "--labels",
        tmp.resolve("d/lab").toString(), "--out", tmp.resolve("crops-png").toString(), "--crop", "64").code());
    TestData.Run t = TestData.run("tile", "--images", tmp.resolve("img.zarr").toString(), "--labels",
        tmp.resolve("lab.zarr").toString(), "--out", tmp.resolve("crops-zarr").toString(), "--crop", "64");
    assertEquals(0, t.code(), t.err());

    // infer writes both; the OME-Zarr planes equal the PNGs
    TestData.Run r = TestData.run("infer", "--images", tmp.resolve("img.zarr").toString(), "--model", model.toString(),
        "--out", tmp.resolve("pred").toString(), "--stride", "32", "--set", "infer.format=both",
        "--set", "infer.zarr-chunk=32");
    assertEquals(0, r.code(), r.err());
    ZarrArray prob = OmeZarr.array(new LocalStore(tmp.resolve("pred/prob.zarr")), null);
    ZarrArray mask = OmeZarr.array(new LocalStore(tmp.resolve("pred/mask.zarr")), null);
    for (int z = 0; z < 2; z++) {
      String stem = String.format("img_z%04d", z);
      IntImage p = ImageReaders.readSingle(tmp.resolve("pred/prob/" + stem + ".png"));
      IntImage m = ImageReaders.readSingle(tmp.resolve("pred/mask/" + stem + ".png"));
      assertArrayEquals(java.util.Arrays.stream(p.data()).asDoubleStream().toArray(), prob.plane(z), 0);
      assertArrayEquals(java.util.Arrays.stream(m.data()).mapToDouble(v -> v == 0 ? 0 : 255).toArray(), mask.plane(z), 0);
    }
    // infer on the PNG folder gives the same probabilities
    assertEquals(0, TestData.run("infer", "--images", tmp.resolve("d/img").toString(), "--model", model.toString(),
        "--out", tmp.resolve("pred-png").toString(), "--stride", "32").code());
    assertArrayEquals(Files.readAllBytes(tmp.resolve("pred-png/prob/s01.png")),
        Files.readAllBytes(tmp.resolve("pred/prob/img_z0001.png")));

    // evaluate scores the OME-Zarr mask against Zarr labels as the PNG masks against PNG labels
    assertEquals(0, TestData.run("evaluate", "--pred", tmp.resolve("pred/mask.zarr").toString(), "--gt",
        tmp.resolve("lab.zarr").toString(), "--out", tmp.resolve("e-zarr").toString()).code());
    assertEquals(0, TestData.run("evaluate", "--pred", tmp.resolve("pred-png/mask").toString(), "--gt",
        tmp.resolve("d/lab").toString(), "--out", tmp.resolve("e-png").toString()).code());
    String zarrMean = Files.readString(tmp.resolve("e-zarr/metrics.json")).split("\"slices\"")[0];
    String pngMean = Files.readString(tmp.resolve("e-png/metrics.json")).split("\"slices\"")[0];
    assertEquals(pngMean, zarrMean);
    assertTrue(Files.exists(tmp.resolve("pred/prob.zarr/.zattrs")));
  }
}

package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.util.Progressable;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.PromptDasException;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Point;
import org.promptdas.core.synth.Domain;
import org.promptdas.jobs.fs.HadoopConf;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.stages.PointTable;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/**
 * Hostile inputs and faults: each case fails on a pipeline that loses data or answers wrongly,
 * on generated data with the tiny network (the fault matrix script runs them and more end to end).
 */
class FaultsTest {
  @TempDir static Path data;
  static Path model;

  @BeforeAll
  static void setUp() throws Exception {
    TestData.slices(data.resolve("vol"), Domain.TARGET, 2, 80, 72);
    model = data.resolve("m.pdas");
    ModelFile.save(new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 3)), model);
  }

  private static TestData.Run infer(Path images, Path out, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("infer", "--images", images.toString(), "--model",
        model.toString(), "--out", out.toString(), "--stride", "32"));
    args.addAll(Arrays.asList(extra));
    return TestData.run(args.toArray(String[]::new));
  }

  /** One line on standard error, no stack trace. */
  private static void oneLine(TestData.Run r, String expected) {
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains(expected), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  @Test
  void anOutputThatOverlapsAnInputIsRefusedBeforeAnythingHappens(@TempDir Path tmp) throws Exception {
    TestData.slices(tmp.resolve("d"), Domain.TARGET, 1, 80, 72);
    byte[] img = Files.readAllBytes(tmp.resolve("d/img/s00.png"));
    oneLine(infer(tmp.resolve("d/img"), tmp.resolve("d"), "--overwrite"), "contains the input");
    oneLine(infer(tmp.resolve("d/img"), tmp.resolve("d/img/out")), "lies inside the input");
    oneLine(TestData.run("tile", "--images", tmp.resolve("d/img").toString(), "--out",
        tmp.resolve("d/img").toString(), "--overwrite", "--crop", "64"), "is the input");
    assertArrayEquals(img, Files.readAllBytes(tmp.resolve("d/img/s00.png")));
    assertEquals(List.of("img", "lab"), listing(tmp.resolve("d")));
  }

  @Test
  void aReplacementThatFailsLeavesTheEarlierPredictionsWhole(@TempDir Path tmp) throws Exception {
    TestData.slices(tmp.resolve("d"), Domain.TARGET, 2, 80, 72);
    assertEquals(0, infer(tmp.resolve("d/img"), tmp.resolve("out")).code());
    byte[] mask = Files.readAllBytes(tmp.resolve("out/mask/s00.png"));
    // a slice whose header reads but whose pixels do not: the new run fails inside a task
    byte[] png = Files.readAllBytes(tmp.resolve("d/img/s01.png"));
    Files.write(tmp.resolve("d/img/s01.png"), Arrays.copyOf(png, png.length / 2));
    TestData.Run r = infer(tmp.resolve("d/img"), tmp.resolve("out"), "--overwrite", "--set", "infer.rotations=false");
    oneLine(r, "s01.png");
    assertArrayEquals(mask, Files.readAllBytes(tmp.resolve("out/mask/s00.png")));
    assertTrue(Files.exists(tmp.resolve("out/mask/s01.png")), "the earlier output is complete");
  }

  @Test
  void pointTablesAreReadByColumnName(@TempDir Path tmp) throws Exception {
    SparkSession spark = SparkSession.builder().master("local[2]").getOrCreate();
    Files.writeString(tmp.resolve("swapped.csv"), "volume,slice,y,x,note\nv,0,5,20,a\nv,1,7,3,b\n");
    HadoopFiles files = new HadoopFiles(new HadoopConf(spark.sparkContext().hadoopConfiguration()));
    PointTable t = PointTable.load(spark, files, tmp.resolve("swapped.csv").toString());
    assertEquals(List.of(new Point(20, 5)), t.points("v", 0));
    assertEquals(List.of(new Point(3, 7)), t.points("v", 1));
    Files.writeString(tmp.resolve("nox.csv"), "volume,slice,y\nv,0,5\n");
    BadInput e = assertThrows(BadInput.class, () -> PointTable.load(spark, files, tmp.resolve("nox.csv").toString()));
    assertTrue(e.getMessage().contains("lacks column x"), e.getMessage());
    // the points stage's own CSV (with slice_name) is a valid input
    assertEquals(0, TestData.run("points", "--labels", data.resolve("vol/lab").toString(), "--fraction", "1",
        "--out", tmp.resolve("pts").toString()).code());
    PointTable own = PointTable.load(spark, files, tmp.resolve("pts/_points.csv").toString());
    assertEquals(PointTable.load(spark, files, tmp.resolve("pts").toString()).sha256(), own.sha256());
  }

  @Test
  void resumeRecomputesSlicesWhoseInputChangedAndRefusesOtherSettings(@TempDir Path tmp) throws Exception {
    TestData.slices(tmp.resolve("d"), Domain.TARGET, 2, 80, 72);
    assertEquals(0, infer(tmp.resolve("d/img"), tmp.resolve("out")).code());
    byte[] prob0 = Files.readAllBytes(tmp.resolve("out/prob/s00.png"));
    byte[] prob1 = Files.readAllBytes(tmp.resolve("out/prob/s01.png"));
    Files.copy(data.resolve("vol/img/s00.png"), tmp.resolve("d/img/s01.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertEquals(0, infer(tmp.resolve("d/img"), tmp.resolve("out")).code());
    assertArrayEquals(prob0, Files.readAllBytes(tmp.resolve("out/prob/s00.png")));
    assertFalse(Arrays.equals(prob1, Files.readAllBytes(tmp.resolve("out/prob/s01.png"))), "s01 was recomputed");
    oneLine(infer(tmp.resolve("d/img"), tmp.resolve("out"), "--set", "infer.density=true"), "other settings");
  }

  @Test
  void aModelWithNonFiniteWeightsIsRefusedNamingTheTensor(@TempDir Path tmp) throws Exception {
    Weights w = Weights.initialise(NetworkConfig.tiny(), 3);
    w.tensors().get("mask_decoder.mask_tokens.weight").putScalar(0, Float.NaN);
    ModelFile.save(new PromptDasModel(w), tmp.resolve("nan.pdas"));
    oneLine(TestData.run("infer", "--images", data.resolve("vol/img").toString(), "--model",
        tmp.resolve("nan.pdas").toString(), "--out", tmp.resolve("out").toString()), "mask_decoder.mask_tokens.weight");
    assertFalse(Files.exists(tmp.resolve("out")));
  }

  @Test
  void aSliceWhoseHeaderClaimsTooManyPixelsIsRefusedBeforeDecoding(@TempDir Path tmp) throws Exception {
    Files.createDirectories(tmp.resolve("big"));
    Files.write(tmp.resolve("big/huge.png"), forgedPng(46000, 46000));
    TestData.Run r = infer(tmp.resolve("big"), tmp.resolve("out"));
    oneLine(r, "46000x46000");
    assertTrue(r.err().contains("limit"), r.err());
  }

  /** A PNG of a few hundred bytes whose header claims a 16-bit grey raster of w x h. */
  static byte[] forgedPng(int w, int h) {
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 16).put((byte) 0)
        .put((byte) 0).put((byte) 0).put((byte) 0);
    ByteBuffer out = ByteBuffer.allocate(8 + 25 + 12 + 200);
    out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", new byte[188]);
    chunk(out, "IEND", new byte[0]);
    return Arrays.copyOf(out.array(), out.position());
  }

  private static void chunk(ByteBuffer out, String type, byte[] body) {
    out.putInt(body.length).put(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put(body);
    CRC32 crc = new CRC32();
    crc.update(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    crc.update(body);
    out.putInt((int) crc.getValue());
  }

  @Test
  void aFullDiskIsAnErrorNamingThePathAndLeavesNoPartialFile(@TempDir Path tmp) throws Exception {
    Configuration conf = new Configuration();
    conf.set("fs.file.impl", FullDisk.class.getName());
    conf.setBoolean("fs.file.impl.disable.cache", true);
    HadoopFiles files = new HadoopFiles(new HadoopConf(conf));
    org.apache.hadoop.fs.Path target = files.qualify(tmp.resolve("out/metrics.json").toString());
    PromptDasException e = assertThrows(PromptDasException.class, () -> files.writeAtomically(target, new byte[100_000]));
    assertTrue(e.getMessage().contains("No space left on device") && e.getMessage().contains("metrics.json"), e.getMessage());
    assertEquals(List.of(), listing(tmp.resolve("out")), "no partial temporary file is left");
  }

  /** What Hadoop's local file system throws when the disk is full (its constructor is package-private). */
  static Error fsError(IOException cause) {
    try {
      var c = FSError.class.getDeclaredConstructor(Throwable.class);
      c.setAccessible(true);
      return c.newInstance(cause);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A local file system whose disk fills up after 1000 bytes of any file. */
  public static final class FullDisk extends RawLocalFileSystem {
    @Override
    public FSDataOutputStream create(org.apache.hadoop.fs.Path f, boolean overwrite, int bufferSize,
        short replication, long blockSize, Progressable progress) throws IOException {
      OutputStream real = super.create(f, overwrite, bufferSize, replication, blockSize, progress);
      return new FSDataOutputStream(new OutputStream() {
        long written;

        @Override
        public void write(int b) throws IOException {
          if (++written > 1000) {
            throw fsError(new IOException("No space left on device"));
          }
          real.write(b);
        }

        @Override
        public void close() throws IOException {
          real.close();
        }
      }, null);
    }
  }

  @Test
  void colonsAndHashesInNamesAreJustCharacters(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run#1/img");
    Files.createDirectories(dir);
    Files.copy(data.resolve("vol/img/s00.png"), dir.resolve("a:b.png"));
    TestData.Run r = infer(dir, tmp.resolve("out#2"));
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(tmp.resolve("out#2/mask/a:b.png")));
  }

  @Test
  void probabilityMapsAreNotScoredAsMasksUnlessAThresholdIsGiven(@TempDir Path tmp) throws Exception {
    IntImage prob = new IntImage(64, 64);
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        prob.set(x, y, Math.max(0, 200 - 6 * (Math.abs(x - 32) + Math.abs(y - 32))));
      }
    }
    IntImage gt = new IntImage(64, 64);
    for (int i = 0; i < gt.size(); i++) {
      gt.data()[i] = prob.data()[i] > 127 ? 1 : 0;
    }
    TestData.png(tmp.resolve("prob/a.png"), prob);
    TestData.png(tmp.resolve("gt/a.png"), gt);
    oneLine(TestData.run("evaluate", "--pred", tmp.resolve("prob").toString(), "--gt", tmp.resolve("gt").toString(),
        "--out", tmp.resolve("e1").toString()), "probability map");
    TestData.Run ok = TestData.run("evaluate", "--pred", tmp.resolve("prob").toString(), "--gt",
        tmp.resolve("gt").toString(), "--out", tmp.resolve("e2").toString(), "--set", "evaluate.threshold=0.5");
    assertEquals(0, ok.code(), ok.err());
    assertTrue(Files.readString(tmp.resolve("e2/metrics.json")).contains("\"dice\" : 1.0"));
  }

  private static List<String> listing(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void badPixelsFoundInsideATaskAreOneLineAndKilledRunsLeftoversAreCleanedUp(@TempDir Path tmp) throws Exception {
    Path img = Files.createDirectories(tmp.resolve("img"));
    Files.copy(data.resolve("vol/img/s00.png"), img.resolve("s00.png"));
    byte[] whole = Files.readAllBytes(data.resolve("vol/img/s01.png"));
    Files.write(img.resolve("s01.png"), Arrays.copyOf(whole, whole.length / 2)); // header intact
    oneLine(infer(img, tmp.resolve("pred")), "s01.png");

    Path stale = tmp.resolve(".scores.tmp-999999@" + java.net.InetAddress.getLocalHost().getHostName() + "-0badc0de");
    Files.createDirectories(stale.resolve("sub"));
    TestData.Run ok = infer(data.resolve("vol/img"), tmp.resolve("good"));
    assertEquals(0, ok.code(), ok.err());
    TestData.Run scored = TestData.run("evaluate", "--pred", tmp.resolve("good/mask").toString(), "--gt",
        data.resolve("vol/lab").toString(), "--out", tmp.resolve("scores").toString());
    assertEquals(0, scored.code(), scored.err());
    assertFalse(Files.exists(stale), "the killed run's temporary folder is deleted");
  }

  @Test
  void aRunKilledBeforeItsMarkerLeavesAFolderTheNextRunTakes(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("pred"));
    Path leftover = out.resolve("._provenance.json.tmp-999999@" + java.net.InetAddress.getLocalHost().getHostName()
        + "-0badc0de");
    Files.write(leftover, new byte[0]);
    TestData.Run r = infer(data.resolve("vol/img"), out);
    assertEquals(0, r.code(), r.err());
    assertFalse(Files.exists(leftover));
    Files.writeString(Files.createDirectories(tmp.resolve("other")).resolve("notes.txt"), "mine");
    oneLine(infer(data.resolve("vol/img"), tmp.resolve("other")), "was not written by this command");
    assertTrue(Files.exists(tmp.resolve("other/notes.txt")));
  }
}

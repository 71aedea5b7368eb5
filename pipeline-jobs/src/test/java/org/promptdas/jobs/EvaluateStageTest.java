package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.metrics.MetricsAccumulator;
import org.promptdas.core.metrics.Protocol;
import org.promptdas.core.metrics.Scorer;
import org.promptdas.core.metrics.SliceScores;
import org.promptdas.core.synth.Domain;

class EvaluateStageTest {
  @TempDir Path tmp;

  @Test
  void writesTablesOverlaysAndMeansThatMatchTheScorer() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.TARGET, 3, 160, 128);
    Scorer scorer = new Scorer(Protocol.BINARY, 15);
    MetricsAccumulator expected = new MetricsAccumulator();
    for (String n : List.of("s00.png", "s01.png", "s02.png")) {
      IntImage img = ImageReaders.readSingle(tmp.resolve("vol/img/" + n));
      IntImage pred = new IntImage(img.width(), img.height()); // any prediction: dark pixels
      for (int i = 0; i < pred.size(); i++) {
        pred.data()[i] = img.data()[i] < 110 ? 1 : 0;
      }
      TestData.png(tmp.resolve("pred/" + n), pred);
      expected.add(scorer.score(pred, ImageReaders.readSingle(tmp.resolve("vol/lab/" + n))));
    }
    // an empty slice on both sides: undefined, reported as null and left out of the mean
    TestData.png(tmp.resolve("pred/s03.png"), new IntImage(160, 128));
    TestData.png(tmp.resolve("vol/lab/s03.png"), new IntImage(160, 128));
    expected.add(SliceScores.UNDEFINED);
    Path out = tmp.resolve("eval");
    TestData.Run r = TestData.run("evaluate", "--pred", tmp.resolve("pred").toString(), "--gt",
        tmp.resolve("vol/lab").toString(), "--images", tmp.resolve("vol/img").toString(),
        "--out", out.toString());
    assertEquals(0, r.code(), r.err());

    JsonNode json = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    for (String k : List.of("dice", "aji", "pq", "dq", "sq")) {
      assertEquals(expected.mean(k), json.get("mean").get(k).asDouble(), 1e-12, k);
    }
    assertEquals(1, json.get("undefined_slices").asInt());
    assertEquals(4, json.get("slices").size());
    assertEquals("s00.png", json.get("slices").get(0).get("slice").asText());
    assertTrue(json.get("slices").get(3).get("dice").isNull());
    List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
    assertEquals("kind,slice,dice,aji,pq,dq,sq,jaccard", csv.get(0));
    assertEquals(6, csv.size());
    assertTrue(csv.get(5).startsWith("mean,mean," + expected.mean("dice")), csv.get(5));
    List<Row> table = SparkSession.builder().getOrCreate().read()
        .parquet(out.resolve("metrics.parquet").toString()).collectAsList();
    assertEquals(5, table.size());
    for (String n : List.of("s00", "s01", "s02", "s03")) {
      java.awt.image.BufferedImage overlay = javax.imageio.ImageIO.read(out.resolve("overlays/" + n + ".png").toFile());
      assertEquals(160, overlay.getWidth());
      assertEquals(3, overlay.getRaster().getNumBands(), "colour overlay");
    }
  }

  @Test
  void missingPartnersFailUnlessSkipped() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.SOURCE, 2, 64, 64);
    TestData.png(tmp.resolve("pred/s00.png"), new IntImage(64, 64));
    Path out = tmp.resolve("eval");
    String[] args = {"evaluate", "--pred", tmp.resolve("pred").toString(), "--gt",
        tmp.resolve("vol/lab").toString(), "--out", out.toString()};
    TestData.Run r = TestData.run(args);
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("without a prediction partner: s01.png"), r.err());
    assertFalse(Files.exists(out));
    r = TestData.run(concat(args, "--skip-missing"));
    assertEquals(0, r.code(), r.err());
    JsonNode json = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    assertEquals(1, json.get("slices").size());
    assertEquals("s01.png", json.get("skipped_slices").get(0).asText());
    r = TestData.run(concat(args, "--skip-missing"));
    assertEquals(2, r.code(), "an existing output is not replaced without --overwrite");
    assertTrue(r.err().contains("output already exists"), r.err());
    assertEquals(0, TestData.run(concat(args, "--skip-missing", "--overwrite")).code());
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

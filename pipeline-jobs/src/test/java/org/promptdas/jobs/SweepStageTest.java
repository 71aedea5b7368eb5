package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.synth.Domain;
import org.promptdas.jobs.report.CellResult;
import org.promptdas.jobs.stages.SweepStage;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

/** The sweep stage: a 2 x 2 x 1 grid, its tables, its report, resume (also after a model changed) and refusal. */
class SweepStageTest {
  @TempDir Path tmp;

  private TestData.Run sweep(Path out, String... extra) {
    String dataset = "tgt=" + tmp.resolve("vol/img") + "|" + tmp.resolve("vol/lab");
    List<String> args = new java.util.ArrayList<>(List.of("sweep", "--master", "local[2]", "--out", out.toString(),
        "--set", "sweep.models=[\"a=" + tmp.resolve("a/model.pdas") + "\", \"b=" + tmp.resolve("b.pdas") + "\"]",
        "--set", "sweep.datasets=[\"" + dataset + "\"]", "--set", "sweep.prompt-fractions=[0, 0.5]",
        "--set", "infer.stride=32", "--set", "infer.rotations=false"));
    args.addAll(List.of(extra));
    return TestData.run(args.toArray(String[]::new));
  }

  @Test
  void aGridGivesOneTableAndAReportWhoseImagesExist() throws Exception {
    TestData.slices(tmp.resolve("vol"), Domain.TARGET, 2, 96, 96);
    Files.createDirectories(tmp.resolve("a"));
    ModelFile.save(new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 1)), tmp.resolve("a/model.pdas"));
    ModelFile.save(new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 2)), tmp.resolve("b.pdas"));
    Files.writeString(tmp.resolve("a/history.jsonl"),
        "{\"round\":1,\"step\":10,\"learningRate\":0.001,\"loss\":0.7,\"segmentation\":0.6,\"detection\":0.05,"
            + "\"contrastive\":0.05,\"crops\":20,\"seconds\":2.0,\"cropsPerSecond\":10.0}\n"
            + "{\"round\":2,\"step\":20,\"learningRate\":0.0005,\"loss\":0.5,\"segmentation\":0.4,\"detection\":0.05,"
            + "\"contrastive\":0.05,\"crops\":20,\"seconds\":2.0,\"cropsPerSecond\":10.0}\n");
    Path out = tmp.resolve("sweep");
    TestData.Run r = sweep(out);
    assertEquals(0, r.code(), r.err());

    List<String> csv = Files.readAllLines(out.resolve("results.csv"));
    assertEquals(5, csv.size(), String.join("\n", csv));
    assertTrue(csv.get(1).startsWith("tgt,a,0.0,"), csv.get(1));
    assertTrue(csv.get(2).startsWith("tgt,b,0.0,"), csv.get(2));
    assertTrue(csv.get(3).startsWith("tgt,a,0.5,"), csv.get(3));
    assertEquals(4, SparkSession.builder().getOrCreate().read().parquet(out.resolve("results.parquet").toString()).count());
    assertTrue(Files.exists(out.resolve("points/tgt/p50")), "testing prompts were sampled once per fraction");
    CellResult[] back = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
        out.resolve("results.json").toFile(), CellResult[].class);
    assertEquals(4, back.length);
    assertEquals("b", back[1].model());
    assertEquals(0.5, back[3].promptFraction());
    assertEquals(5, SweepStage.table(List.of(back)).lines().count(), "the demo prints the table from results.json");

    String html = Files.readString(out.resolve("report.html"));
    assertTrue(html.contains("<svg"), "loss curves of the model with a history");
    Matcher m = Pattern.compile("src=\"([^\"]+)\"").matcher(html);
    int images = 0;
    while (m.find()) {
      assertTrue(Files.exists(out.resolve(m.group(1))), m.group(1));
      images++;
    }
    assertEquals(8, images, "2 slices x 4 cells");

    // the same grid again resumes (nothing to redo); another grid is refused
    long before = Files.getLastModifiedTime(out.resolve("cells/tgt/a/p0/eval/metrics.json")).toMillis();
    assertEquals(0, sweep(out).code());
    assertEquals(before, Files.getLastModifiedTime(out.resolve("cells/tgt/a/p0/eval/metrics.json")).toMillis());

    // a model retrained at the same path: its cells are scored again, the other model's are kept
    ModelFile.save(new PromptDasModel(Weights.initialise(NetworkConfig.tiny(), 3)), tmp.resolve("b.pdas"));
    String retrained = HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(tmp.resolve("b.pdas"))));
    TestData.Run again = sweep(out);
    assertEquals(0, again.code(), again.err());
    assertEquals(before, Files.getLastModifiedTime(out.resolve("cells/tgt/a/p0/eval/metrics.json")).toMillis());
    for (String cell : List.of("p0", "p50")) {
      assertTrue(Files.readString(out.resolve("cells/tgt/b/" + cell + "/infer/_provenance.json")).contains(retrained),
          "cell " + cell + " of the retrained model was scored with the new file");
    }
    TestData.Run other = sweep(out, "--set", "infer.stride=48");
    assertEquals(2, other.code());
    assertTrue(other.err().contains("holds another sweep"), other.err());
  }

  @Test
  void malformedGridEntriesAreRefusedBeforeAnyWork() throws Exception {
    TestData.Run r = TestData.run("sweep", "--out", tmp.resolve("s").toString(),
        "--set", "sweep.models=[\"no-equals-sign\"]", "--set", "sweep.datasets=[\"d=x|y\"]");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("is not NAME=PATH"), r.err());
    TestData.Run missing = TestData.run("sweep", "--out", tmp.resolve("s").toString(),
        "--set", "sweep.models=[\"m=" + tmp.resolve("none.pdas") + "\"]", "--set", "sweep.datasets=[\"d=x|y\"]");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("none.pdas"), missing.err());
    assertTrue(!Files.exists(tmp.resolve("s")));
  }
}

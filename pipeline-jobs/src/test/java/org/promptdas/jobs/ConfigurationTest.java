package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.core.config.ConfigLoader;
import org.promptdas.core.config.Param;
import org.promptdas.jobs.stages.DemoStage;
import org.promptdas.jobs.stages.EvaluateStage;
import org.promptdas.jobs.stages.InferStage;
import org.promptdas.jobs.stages.PointsStage;
import org.promptdas.jobs.stages.SweepStage;
import org.promptdas.jobs.stages.SynthStage;
import org.promptdas.jobs.stages.TileStage;
import org.promptdas.jobs.stages.TrainStage;
import org.promptdas.model.train.TrainConfig;

class ConfigurationTest {
  private static final List<Class<?>> STAGES =
      List.of(SynthStage.class, TileStage.class, PointsStage.class, TrainStage.class, InferStage.class,
      EvaluateStage.class, SweepStage.class, DemoStage.class);

  static List<Param<?>> declared() throws Exception {
    List<Param<?>> out = new ArrayList<>();
    for (Class<?> c : STAGES) {
      for (Field f : c.getFields()) {
        if (Modifier.isStatic(f.getModifiers()) && Param.class.isAssignableFrom(f.getType())) {
          out.add((Param<?>) f.get(null));
        }
      }
    }
    return out;
  }

  @Test
  void everyParameterHasADocumentedDefaultAndEveryDefaultAParameter() throws Exception {
    Config defaults = ConfigLoader.defaults();
    Set<String> declared = new TreeSet<>();
    for (Param<?> p : declared()) {
      assertTrue(defaults.hasPath(p.path()), p.path() + " has no default in conf/application.conf");
      assertFalse(p.doc().isBlank(), p.path() + " has no doc");
      declared.add(p.path());
    }
    Set<String> stageKeys = new TreeSet<>();
    for (String section : List.of("synth", "tile", "points", "train", "infer", "evaluate", "sweep", "demo")) {
      defaults.getConfig("prompt-das." + section).entrySet()
          .forEach(e -> stageKeys.add("prompt-das." + section + "." + e.getKey()));
    }
    stageKeys.removeAll(declared);
    assertEquals(Set.of(), stageKeys, "defaults that no stage reads");
  }

  @Test
  void overridesWinOverFilesWhichWinOverDefaults(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("exp.conf");
    Files.writeString(f, "prompt-das.tile { crop = 256, stride = 128 }\n");
    Config c = ConfigLoader.load(List.of(f), List.of("tile.stride=64"));
    assertEquals(256, c.getInt("prompt-das.tile.crop"));
    assertEquals(64, c.getInt("prompt-das.tile.stride"));
    assertEquals(15, c.getInt("prompt-das.evaluate.min-size"));
  }

  @Test
  void typosAndBadValuesAreReportedTogetherWithTheirKeys() {
    BadConfig typo = assertThrows(BadConfig.class,
        () -> ConfigLoader.load(List.of(), List.of("tile.crop-size=3")));
    assertTrue(typo.getMessage().contains("unknown key prompt-das.tile.crop-size"), typo.getMessage());
    assertTrue(typo.getMessage().contains("did you mean prompt-das.tile.crop"), typo.getMessage());
    Config bad = ConfigLoader.load(List.of(), List.of("tile.crop=0", "tile.small-slices=maybe"));
    BadConfig e = assertThrows(BadConfig.class, () -> new TileStage().settings(bad));
    assertTrue(e.getMessage().contains("prompt-das.tile.crop = 0 is invalid"), e.getMessage());
    assertTrue(e.getMessage().contains("prompt-das.tile.small-slices = \"maybe\""), e.getMessage());
    assertTrue(e.getMessage().contains("prompt-das.tile.images"), "required inputs are listed too");
    assertThrows(BadConfig.class, () -> ConfigLoader.load(List.of(Path.of("/no/such.conf")), List.of()));
  }

  @Test
  void sparkPassThroughSectionAcceptsAnyKey() {
    Config c = ConfigLoader.load(List.of(), List.of("spark.conf.\"spark.sql.shuffle.partitions\"=7"));
    assertEquals("7", c.getConfig("prompt-das.spark.conf").root().unwrapped()
        .get("spark.sql.shuffle.partitions").toString());
  }

  @Test
  void everyExperimentFileLoadsAndItsTrainingAndSweepSettingsValidate() throws Exception {
    List<Path> files;
    try (var s = Files.list(Path.of("../conf"))) {
      files = s.filter(f -> f.toString().endsWith(".conf") && !f.endsWith("application.conf")).sorted().toList();
    }
    assertTrue(files.size() >= 3, "experiment files: " + files);
    for (Path f : files) {
      Config c = ConfigLoader.load(List.of(f), List.of());
      new TrainStage().settings(c);
      new SweepStage().settings(c);
      assertEquals(0.15, c.getDouble("prompt-das.points.fraction"), f.toString());
    }
  }

  @Test
  void encoderRecomputationIsAutoTrueOrFalse() {
    List<Path> exp = List.of(Path.of("../conf/vnc-to-lucchi.conf"));
    assertEquals("auto", new TrainStage().settings(ConfigLoader.load(exp, List.of())).get(TrainStage.RECOMPUTE));
    for (String v : List.of("true", "false", "AUTO")) {
      Config c = ConfigLoader.load(exp, List.of("train.recompute-encoder=" + v));
      assertEquals(v.toLowerCase(Locale.ROOT), new TrainStage().settings(c).get(TrainStage.RECOMPUTE));
    }
    Config bad = ConfigLoader.load(exp, List.of("train.recompute-encoder=sometimes"));
    BadConfig e = assertThrows(BadConfig.class, () -> new TrainStage().settings(bad));
    assertTrue(e.getMessage().contains("prompt-das.train.recompute-encoder"), e.getMessage());
  }

  @Test
  void pseudoLabelThresholdsDefaultToThePapersAndReachTheTrainingConfiguration() {
    List<Path> exp = List.of(Path.of("../conf/vnc-to-lucchi.conf"));
    TrainConfig preset = trainConfig(ConfigLoader.load(exp, List.of()));
    assertEquals(0.9, preset.foregroundConfidence());
    assertEquals(0.1, preset.backgroundConfidence());
    assertEquals(125.0 / 255, preset.peakThreshold(), 0.0, "exactly the preset's, so earlier runs resume");
    TrainConfig lowPeaks = trainConfig(ConfigLoader.load(exp, List.of("train.peak-threshold=0.1")));
    assertEquals(preset.withPeakThreshold(0.1), lowPeaks, "nothing else changes");
    TrainConfig strict = trainConfig(ConfigLoader.load(exp,
        List.of("train.foreground-confidence=0.97", "train.background-confidence=0.02")));
    assertEquals(0.97, strict.foregroundConfidence());
    assertEquals(0.02, strict.backgroundConfidence());
    assertEquals(preset.withConfidence(0.97, 0.02), strict, "nothing else changes");
    Config bad = ConfigLoader.load(exp, List.of("train.foreground-confidence=0.3"));
    BadConfig e = assertThrows(BadConfig.class, () -> new TrainStage().settings(bad));
    assertTrue(e.getMessage().contains("prompt-das.train.foreground-confidence"), e.getMessage());
  }

  private static TrainConfig trainConfig(Config c) {
    return TrainStage.trainConfig(new StageCommand.Context(c, new TrainStage().settings(c), null, null));
  }

  @Test
  void stageOptionsComeFromTheParametersWithTheirDefaultsAndValidation(@TempDir Path tmp) {
    String help = PromptDas.commandLine().getSubcommands().get("infer").getUsageMessage().replaceAll("\\s+", " ");
    assertTrue(help.contains("--stride=STRIDE window stride in px (default 128)"), help);
    assertTrue(help.contains("--model=MODEL model file (required)"), help);
    assertTrue(PromptDas.commandLine().getSubcommands().get("train").getUsageMessage()
        .contains("--resume[=RESUME]"));
    TestData.Run bad = TestData.run("infer", "--images", tmp.toString(), "--model", "m.pdas", "--out",
        tmp.resolve("o").toString(), "--stride", "0");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("prompt-das.infer.stride = 0 is invalid"), bad.err());
    TestData.Run wrongType = TestData.run("evaluate", "--pred", tmp.toString(), "--gt", tmp.toString(),
        "--out", tmp.resolve("o").toString(), "--skip-missing=perhaps");
    assertEquals(2, wrongType.code(), wrongType.err());
    assertTrue(wrongType.err().contains("prompt-das.evaluate.skip-missing"), wrongType.err());
  }
}

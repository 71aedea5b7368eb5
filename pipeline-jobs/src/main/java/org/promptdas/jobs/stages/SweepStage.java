package org.promptdas.jobs.stages;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.core.config.Overrides;
import org.promptdas.core.config.Param;
import org.promptdas.jobs.StageCommand;
import org.promptdas.jobs.fs.HadoopFiles;
import org.promptdas.jobs.fs.ResumableOutput;
import org.promptdas.jobs.inputs.SliceRef;
import org.promptdas.jobs.inputs.SliceSet;
import org.promptdas.jobs.report.CellResult;
import org.promptdas.jobs.report.HtmlReport;
import org.promptdas.jobs.spark.Sparks;
import org.promptdas.jobs.training.RoundRecord;
import org.promptdas.model.ModelFile;
import picocli.CommandLine.Command;

/**
 * {@code sweep}: evaluates a grid of models x testing-prompt fractions x datasets, running
 * {@code points} (the testing prompts, once per dataset and fraction), {@code infer} and
 * {@code evaluate} per cell with the configuration's {@code infer.*} and {@code evaluate.*}
 * settings. Writes into OUT: {@code cells/DATASET/MODEL/pNN/{infer,eval}}, {@code points/}, one
 * table as {@code results.csv}, {@code results.json} and {@code results.parquet/}, and
 * {@code report.html} (scores, loss curves from each model's {@code history.jsonl}, overlays).
 * Resumable: {@code _sweep.json} records the grid; a rerun of the same grid skips finished cells
 * (and infer resumes inside a cell), except those scored with an earlier file at a model's path (a
 * retrained model), which are scored again; another grid in the same folder is refused.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = "Evaluate models x testing-prompt fractions x datasets; one table and an HTML report.")
public final class SweepStage extends StageCommand {
  public static final Param<List<String>> MODELS = Param.strings("prompt-das.sweep.models",
      "models as NAME=MODEL.pdas (a history.jsonl beside the model is plotted)", true);
  public static final Param<List<String>> DATASETS = Param.strings("prompt-das.sweep.datasets",
      "datasets as NAME=IMAGES|LABELS", true);
  public static final Param<List<Double>> FRACTIONS = Param.numbers("prompt-das.sweep.prompt-fractions",
      "fractions of test instances given a testing prompt", 0, 1);
  public static final Param<List<String>> PROMPT_MODES = Param.strings("prompt-das.sweep.prompt-modes",
      "prompt modes of infer.prompts to run: given (the paper's protocol), auto (self-prompting)", true);
  public static final Param<String> OUT = Param.required("prompt-das.sweep.out", "output folder");
  public static final Param<Long> SEED = Param.longValue("prompt-das.sweep.prompt-seed",
      "seed of the testing-prompt choice");
  public static final Param<Integer> OVERLAY_SLICES = Param.integer("prompt-das.sweep.overlay-slices",
      "slices per dataset whose overlays the report shows", 0, 1000);
  public static final Param<String> TITLE = Param.string("prompt-das.sweep.title", "report title");

  static final String MARKER = "_sweep.json";

  /** One named entry of the grid. */
  record Entry(String name, String path, String labels) {}

  private List<Entry> models;
  private List<Entry> datasets;
  /** Each model's SHA-256 by name: a finished cell counts only if it was scored with this file. */
  private Map<String, String> modelHashes;
  private ResumableOutput output;

  @Override
  protected String stage() {
    return "sweep";
  }

  @Override
  protected List<Param<?>> params() {
    return List.of(MODELS, DATASETS, FRACTIONS, PROMPT_MODES, OUT, SEED, OVERLAY_SLICES, TITLE,
        InferStage.STRIDE, InferStage.ROTATIONS);
  }

  @Override
  protected List<Param<?>> options() {
    return List.of(OUT);
  }

  static List<Entry> parse(Param<List<String>> p, List<String> values, boolean withLabels) {
    List<Entry> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String v : values) {
      int eq = v.indexOf('=');
      String name = eq < 0 ? "" : v.substring(0, eq).trim();
      String rest = eq < 0 ? "" : v.substring(eq + 1).trim();
      String[] parts = rest.split("\\|", -1);
      if (!name.matches("[A-Za-z0-9._+-]+") || rest.isEmpty() || parts.length != (withLabels ? 2 : 1)) {
        throw new BadConfig(p.path() + ": '" + v + "' is not " + (withLabels ? "NAME=IMAGES|LABELS" : "NAME=PATH")
            + " (NAME of letters, digits, . _ + -)");
      }
      if (!names.add(name)) {
        throw new BadConfig(p.path() + ": the name '" + name + "' appears twice");
      }
      out.add(new Entry(name, parts[0].trim(), withLabels ? parts[1].trim() : null));
    }
    return out;
  }

  @Override
  protected List<String> inputPaths(Context ctx) {
    List<String> in = new ArrayList<>();
    parse(MODELS, ctx.get(MODELS), false).forEach(m -> in.add(m.path()));
    parse(DATASETS, ctx.get(DATASETS), true).forEach(d -> in.addAll(List.of(d.path(), d.labels())));
    return in;
  }

  @Override
  protected List<String> outputPaths(Context ctx) {
    return List.of(ctx.get(OUT));
  }

  @Override
  protected void validate(Context ctx) {
    HadoopFiles files = ctx.files();
    models = parse(MODELS, ctx.get(MODELS), false);
    datasets = parse(DATASETS, ctx.get(DATASETS), true);
    for (String mode : ctx.get(PROMPT_MODES)) {
      if (!List.of("given", "auto").contains(mode)) {
        throw new BadConfig(PROMPT_MODES.path() + ": '" + mode + "' is neither given nor auto");
      }
    }
    modelHashes = new LinkedHashMap<>();
    for (Entry m : models) {
      Path p = files.qualify(m.path());
      byte[] bytes = files.read(p);
      ModelFile.fromBytes(p.toString(), bytes, null);
      modelHashes.put(m.name(), InferStage.sha256(bytes));
    }
    for (Entry d : datasets) {
      SliceSet.pair(SliceSet.resolve(files, d.path(), null), "image",
          SliceSet.resolve(files, d.labels(), null), "label", false);
    }
    output = ResumableOutput.check(files, files.qualify(ctx.get(OUT)), MARKER, gridJson(ctx), ctx.overwrite(),
        "holds another sweep");
    if (output.resuming()) {
      log.info("sweep: resuming in {}", output.dir());
    }
  }

  /** What identifies the sweep: the grid and every infer/evaluate setting. */
  private String gridJson(Context ctx) {
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("models", ctx.get(MODELS));
    g.put("datasets", ctx.get(DATASETS));
    g.put("prompt_fractions", ctx.get(FRACTIONS));
    g.put("prompt_modes", ctx.get(PROMPT_MODES));
    g.put("prompt_seed", ctx.get(SEED));
    g.put("infer", ctx.config().getConfig("prompt-das.infer").root().unwrapped());
    g.put("evaluate", ctx.config().getConfig("prompt-das.evaluate").root().unwrapped());
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String percent(double fraction) {
    return "p" + new BigDecimal(Double.toString(100 * fraction)).stripTrailingZeros().toPlainString();
  }

  @Override
  protected void execute(Context ctx) {
    HadoopFiles files = ctx.files();
    output.open();
    try {
      Path outDir = output.dir();
      Overrides base = Overrides.of(ctx.config()).set(OVERWRITE, false);
      List<CellResult> cells = new ArrayList<>();
      Map<String, List<String>> overlaySlices = new LinkedHashMap<>();
      List<String> modes = ctx.get(PROMPT_MODES);
      int total = models.size() * datasets.size() * ctx.get(FRACTIONS).size() * modes.size();
      int done = 0;
      for (Entry d : datasets) {
        List<SliceRef> slices = SliceSet.resolve(files, d.path(), null).slices();
        overlaySlices.put(d.name(), slices.stream().limit(ctx.get(OVERLAY_SLICES)).map(SliceRef::stem).toList());
        for (double f : ctx.get(FRACTIONS)) {
          String points = "";
          if (f > 0) {
            points = outDir + "/points/" + d.name() + "/" + percent(f);
            if (!files.exists(new Path(points))) {
              new PointsStage().runWith(base.set(PointsStage.LABELS, d.labels()).set(PointsStage.OUT, points)
                  .set(PointsStage.FRACTION, f).set(PointsStage.SEED, ctx.get(SEED))
                  .set(PointsStage.VOLUME, d.name()).config(), ctx.spark());
            }
          }
          for (String mode : modes) {
            for (Entry m : models) {
              String cell = "cells/" + d.name() + "/" + m.name() + "/" + percent(f) + (mode.equals("auto") ? "-auto" : "");
              boolean scored = files.exists(new Path(outDir, cell + "/eval/metrics.json"));
              boolean stale = scored && !scoredWith(files, new Path(outDir, cell), modelHashes.get(m.name()));
              if (stale) {
                log.info("sweep: {} was scored with an earlier file at {}; scoring it again", cell, m.path());
              }
              if (!scored || stale) {
                Overrides cellBase = base.set(OVERWRITE, stale);
                new InferStage().runWith(cellBase.set(InferStage.IMAGES, d.path()).set(InferStage.MODEL, m.path())
                    .set(InferStage.OUT, outDir + "/" + cell + "/infer").set(InferStage.POINTS, points)
                    .set(InferStage.VOLUME, d.name()).set(InferStage.PROMPTS, mode).config(), ctx.spark());
                new EvaluateStage().runWith(cellBase.set(EvaluateStage.PRED, outDir + "/" + cell + "/infer/mask")
                    .set(EvaluateStage.GT, d.labels()).set(EvaluateStage.IMAGES, d.path())
                    .set(EvaluateStage.OVERLAYS, true).set(EvaluateStage.OUT, outDir + "/" + cell + "/eval")
                    .config(), ctx.spark());
              }
              CellResult r = CellResult.read(files, outDir, cell + "/eval", d.name(), m.name(), f, mode);
              cells.add(r);
              log.info(String.format(Locale.ROOT, "sweep: cell %d/%d %s / %s / %s prompts: Dice %.1f AJI %.1f PQ %.1f",
                  ++done, total, d.name(), m.name(), r.promptLabel(), 100 * r.dice(), 100 * r.aji(), 100 * r.pq()));
            }
          }
        }
      }
      writeResults(ctx, outDir, cells, overlaySlices);
      output.commit();
      System.out.println(table(cells));
      log.info("sweep: {} cells -> {}", cells.size(), new Path(output.target(), "report.html"));
    } finally {
      output.release();
    }
  }

  /** Whether a scored cell's predictions came from the model file with this SHA-256. */
  private static boolean scoredWith(HadoopFiles files, Path cell, String modelHash) {
    Path provenance = new Path(cell, "infer/" + InferStage.PROVENANCE);
    return files.exists(provenance) && modelHash.equals(files.readJson(provenance).path("model_sha256").asText());
  }

  private void writeResults(Context ctx, Path outDir, List<CellResult> cells, Map<String, List<String>> overlays) {
    HadoopFiles files = ctx.files();
    files.writeAtomically(new Path(outDir, "results.csv"), CellResult.csv(cells).getBytes(StandardCharsets.UTF_8));
    try {
      files.writeAtomically(new Path(outDir, "results.json"),
          new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(cells));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Sparks.replaceTable(ctx.spark(), files, new Path(outDir, "results.parquet"),
        cells.stream().map(CellResult::toRow).toList(), CellResult.SCHEMA);
    Map<String, List<RoundRecord>> histories = new LinkedHashMap<>();
    for (Entry m : models) {
      Path h = new Path(files.qualify(m.path()).getParent(), "history.jsonl");
      if (files.exists(h)) {
        histories.put(m.name(), RoundRecord.parseLines(new String(files.read(h), StandardCharsets.UTF_8)));
      }
    }
    String title = ctx.get(TITLE).isEmpty() ? "Prompt-DAS sweep" : ctx.get(TITLE);
    List<String> notes = List.of(String.format(Locale.ROOT, "%d models x %d datasets x testing prompts on %s "
        + "of the instances (seed %d). Window stride %d px, %s.", models.size(), datasets.size(),
        ctx.get(FRACTIONS).stream().map(f -> String.format(Locale.ROOT, "%.0f%%", 100 * f)).toList(),
        ctx.get(SEED), ctx.get(InferStage.STRIDE),
        ctx.get(InferStage.ROTATIONS) ? "4 rotations averaged" : "no rotations"));
    files.writeAtomically(new Path(outDir, "report.html"),
        HtmlReport.render(title, notes, cells, histories, overlays).getBytes(StandardCharsets.UTF_8));
  }

  /** The results as a fixed-width text table (percent). */
  public static String table(List<CellResult> cells) {
    StringBuilder s = new StringBuilder();
    String fmt = "%-14s %-22s %10s %7s %7s %7s%n";
    s.append(String.format(Locale.ROOT, fmt, "dataset", "model", "prompts", "Dice", "AJI", "PQ"));
    for (CellResult c : cells) {
      s.append(String.format(Locale.ROOT, fmt, c.dataset(), c.model(),
          c.promptLabel(), pct(c.dice()), pct(c.aji()), pct(c.pq())));
    }
    return s.toString();
  }

  private static String pct(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", 100 * v);
  }
}

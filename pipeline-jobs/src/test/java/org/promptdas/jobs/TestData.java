package org.promptdas.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.io.PngWriter;
import org.promptdas.core.synth.Domain;
import org.promptdas.core.synth.SynthEm;

/** Generated slices on disk and a way to run the CLI and capture its error output. */
final class TestData {
  private TestData() {}

  /** Writes {@code n} synthetic slices as img/NAME.png and lab/NAME.png under {@code dir}. */
  static void slices(Path dir, Domain d, int n, int w, int h) throws Exception {
    Files.createDirectories(dir.resolve("img"));
    Files.createDirectories(dir.resolve("lab"));
    for (int i = 0; i < n; i++) {
      SynthEm.Sample s = SynthEm.generate(d, w, h, 100 + i);
      String name = String.format("s%02d.png", i);
      Files.write(dir.resolve("img").resolve(name), PngWriter.grey8(s.image()));
      Files.write(dir.resolve("lab").resolve(name), PngWriter.grey16(s.labels()));
    }
  }

  static void png(Path file, IntImage img) throws Exception {
    Files.createDirectories(file.getParent());
    Files.write(file, PngWriter.greyAuto(img));
  }

  /** Exit code and standard error of one command line. */
  record Run(int code, String err) {}

  static Run run(String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      int code = PromptDas.run(args);
      return new Run(code, buf.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(old);
    }
  }
}

package org.promptdas.jobs.fs;

import java.util.List;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException.BadConfig;
import org.promptdas.jobs.inputs.InputSpec;

/**
 * Refuses a run whose output is, lies inside, or contains one of its inputs, before anything is
 * read or written: an {@code --overwrite} of such an output would delete the input, and writing
 * into an input folder would change what the run reads. Paths are compared fully qualified
 * ({@code FILE.h5#/dataset} as its file). Stateless.
 */
public final class Overlaps {
  private Overlaps() {}

  /**
   * @param inputs the run's input paths as given (blank ones are unset and skipped)
   * @param outputs the run's output folders or files
   * @throws BadConfig naming both paths
   */
  public static void refuse(HadoopFiles files, List<String> inputs, List<String> outputs) {
    for (String out : outputs) {
      if (out == null || out.isBlank()) {
        continue;
      }
      Path o = files.qualify(out);
      for (String in : inputs) {
        if (in == null || in.isBlank()) {
          continue;
        }
        Path i = files.qualify(InputSpec.parse(in).path());
        String relation = o.equals(i) ? "is" : within(o, i) ? "lies inside" : within(i, o) ? "contains" : null;
        if (relation != null) {
          throw new BadConfig(o + ": the output " + relation + " the input " + i
              + " (an output must lie outside every input, or replacing it would destroy the input)");
        }
      }
    }
  }

  /** True when {@code a} lies strictly below folder {@code b}. */
  private static boolean within(Path a, Path b) {
    for (Path p = a.getParent(); p != null; p = p.getParent()) {
      if (p.equals(b)) {
        return true;
      }
    }
    return false;
  }
}

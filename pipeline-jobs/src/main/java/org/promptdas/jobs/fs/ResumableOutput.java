package org.promptdas.jobs.fs;

import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException.BadConfig;

/**
 * An output folder filled piece by piece (each piece written atomically) that a rerun resumes. A
 * marker file in the folder holds the identity of the run that owns it (e.g. model and settings
 * hashes); a rerun with the same identity continues where the last one stopped, a run with another
 * identity is refused, so outputs of different runs never mix. With overwrite the folder is
 * deleted when the run starts (not at validation). Complements {@link AtomicOutput}, which suits
 * outputs written in one go.
 */
public final class ResumableOutput {
  private ResumableOutput() {}

  /**
   * The validation half: writes nothing.
   *
   * @param refusal why another run's folder is refused, e.g. "holds another sweep"
   * @return true when an earlier run with this identity will be resumed
   */
  public static boolean check(HadoopFiles files, Path dir, String marker, String identity,
      boolean overwrite, String refusal) {
    if (!files.exists(dir) || overwrite) {
      return false;
    }
    Path m = new Path(dir, marker);
    if (!files.exists(m)) {
      throw new BadConfig(dir + ": exists and was not written by this command (no " + marker
          + "); use another folder, or --overwrite");
    }
    if (!new String(files.read(m), StandardCharsets.UTF_8).equals(identity)) {
      throw new BadConfig(dir + ": " + refusal + " (" + marker + " differs); a rerun with the same "
          + "inputs and settings resumes; use another folder, or --overwrite");
    }
    return true;
  }

  /** The execution half: replaces the folder when overwriting, creates it, writes the marker. */
  public static void open(HadoopFiles files, Path dir, String marker, String identity, boolean overwrite) {
    if (overwrite && files.exists(dir)) {
      files.delete(dir);
    }
    files.mkdirs(dir);
    files.writeAtomically(new Path(dir, marker), identity.getBytes(StandardCharsets.UTF_8));
  }
}

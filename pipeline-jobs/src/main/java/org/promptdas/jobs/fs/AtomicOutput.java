package org.promptdas.jobs.fs;

import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException.BadConfig;

/**
 * An output folder that appears complete or not at all. Everything is written under a hidden
 * temporary sibling ({@link TempNames}: {@code .NAME.tmp-PID@HOST-XXXXXXXX}); {@link #commit()} renames it into place (one rename:
 * atomic on HDFS and local disks; on object stores such as S3A a rename is a copy, so a reader may
 * briefly see a partial folder there). {@link #abort()} deletes it. An existing output is refused
 * at {@link #begin} unless overwriting was asked for, in which case it is replaced only at commit,
 * so a failed rerun never destroys the previous result.
 *
 * <p>{@link #close()} aborts unless the output was committed, so try-with-resources cleans up on
 * every failure, checked Spark exceptions included:
 * <pre>{@code
 * try (AtomicOutput out = AtomicOutput.begin(files, files.qualify("results/eval"), false)) {
 *   files.write(new Path(out.temp(), "metrics.json"), bytes);
 *   out.commit();
 * }
 * }</pre>
 */
public final class AtomicOutput implements AutoCloseable {
  private final HadoopFiles files;
  private final Path target;
  private final Path temp;
  private final boolean overwrite;
  private boolean committed;

  private AtomicOutput(HadoopFiles files, Path target, Path temp, boolean overwrite) {
    this.files = files;
    this.target = target;
    this.temp = temp;
    this.overwrite = overwrite;
  }

  /**
   * Checks the target, deletes the temporary folders that killed runs left beside it, and
   * reserves a temporary folder name.
   */
  public static AtomicOutput begin(HadoopFiles files, Path target, boolean overwrite) {
    check(files, target, overwrite);
    files.deleteAbandoned(target.getParent(), n -> TempNames.isTempOf(n, target.getName()));
    Path temp = HadoopFiles.child(target.getParent(), TempNames.of(target.getName()));
    return new AtomicOutput(files, target, temp, overwrite);
  }

  /** The validation half of {@link #begin}, for checks before any work starts. */
  public static void check(HadoopFiles files, Path target, boolean overwrite) {
    if (target.getParent() == null) {
      throw new BadConfig(target + ": cannot write to the root of a file system");
    }
    if (files.exists(target) && !overwrite) {
      throw new BadConfig(target + ": output already exists (choose another path, delete it, or "
          + "set overwrite = true / --overwrite)");
    }
  }

  public Path target() {
    return target;
  }

  /** The temporary folder to write into. */
  public Path temp() {
    return temp;
  }

  /** Moves the temporary folder into place, replacing an older output only now. */
  public void commit() {
    if (files.exists(target)) {
      if (!overwrite) {
        throw new BadConfig(target + ": output appeared while this job ran; result left in " + temp);
      }
      files.delete(target);
    }
    files.mkdirs(target.getParent());
    files.rename(temp, target);
    committed = true;
  }

  /** Deletes whatever was written unless committed; never throws. */
  @Override
  public void close() {
    if (committed) {
      return;
    }
    try {
      files.delete(temp);
    } catch (RuntimeException ignored) {
      // best effort: the temporary folder is hidden and named as such
    }
  }
}

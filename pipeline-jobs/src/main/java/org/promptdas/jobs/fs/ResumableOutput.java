package org.promptdas.jobs.fs;

import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException.BadConfig;

/**
 * An output folder filled piece by piece (each piece written atomically) that a rerun resumes. A
 * marker file in the folder holds the identity of the run that owns it (e.g. model and settings
 * hashes); a rerun with the same identity continues where the last one stopped, a run with another
 * identity is refused, so outputs of different runs never mix.
 *
 * <p>Replacing an existing output (overwrite) never destroys it early: the run works in a hidden
 * sibling ({@code .NAME.replacing}) and {@link #commit} swaps it in at the end, so the earlier
 * output stays whole through any failure, refusal or kill. An interrupted replacement with the same
 * identity is resumed in that sibling; one with another identity is started afresh there.
 * Complements {@link AtomicOutput}, which suits outputs written in one go. Not thread-safe.
 *
 * <pre>{@code
 * ResumableOutput out = ResumableOutput.check(files, dir, "_provenance.json", identity, overwrite, "holds other predictions");
 * out.open();                        // when the work starts
 * try {
 *   files.writeAtomically(HadoopFiles.child(out.dir(), "mask/a.png"), bytes);
 *   out.commit();                    // when everything is written
 * } finally {
 *   out.release();
 * }
 * }</pre>
 */
public final class ResumableOutput {
  private final HadoopFiles files;
  private final Path target;
  private final Path dir;
  private final String marker;
  private final String identity;

  private ResumableOutput(HadoopFiles files, Path target, Path dir, String marker, String identity) {
    this.files = files;
    this.target = target;
    this.dir = dir;
    this.marker = marker;
    this.identity = identity;
  }

  /**
   * The validation half: writes nothing.
   *
   * @param refusal why another run's folder is refused, e.g. "holds another sweep"
   */
  public static ResumableOutput check(HadoopFiles files, Path target, String marker, String identity,
      boolean overwrite, String refusal) {
    if (files.exists(target) && overwrite) {
      return new ResumableOutput(files, target, staging(target), marker, identity);
    }
    if (files.exists(target)) {
      Path m = new Path(target, marker);
      if (!files.exists(m)) {
        // an empty folder, or one holding only what a run killed before its marker left, is fresh
        if (!files.listNames(target).stream().allMatch(TempNames::abandoned)) {
          throw new BadConfig(target + ": exists and was not written by this command (no " + marker
              + "); use another folder, or --overwrite");
        }
      } else if (!new String(files.read(m), StandardCharsets.UTF_8).equals(identity)) {
        throw new BadConfig(target + ": " + refusal + " (" + marker + " differs); a rerun with the same "
            + "inputs and settings resumes; use another folder, or --overwrite");
      }
    }
    return new ResumableOutput(files, target, target, marker, identity);
  }

  /** The hidden sibling in which a replacement of {@code target} is written. */
  public static Path staging(Path target) {
    return HadoopFiles.child(target.getParent(), "." + target.getName() + ".replacing");
  }

  /** The folder to write into: the output itself, or its staging sibling when replacing it. */
  public Path dir() {
    return dir;
  }

  /** The output as the user named it. */
  public Path target() {
    return target;
  }

  /** True when earlier work of this identity is there to be continued. */
  public boolean resuming() {
    return sameIdentity();
  }

  private boolean sameIdentity() {
    Path m = new Path(dir, marker);
    return files.exists(m) && new String(files.read(m), StandardCharsets.UTF_8).equals(identity);
  }

  /**
   * The execution half: takes the lock, starts a replacement afresh unless it continues one of
   * this identity, creates the folder, deletes the temporary files a killed run left in its
   * subfolders and writes the marker. On a failure here (a full disk) the lock is freed and a
   * folder it created is removed.
   */
  public void open() {
    lock();
    boolean existed = files.exists(dir);
    try {
      if (files.exists(target) && dir.equals(target) && files.exists(new Path(target, marker)) && !sameIdentity()) {
        throw new BadConfig(target + ": another run wrote it meanwhile (" + marker + " differs); use another "
            + "folder, or --overwrite");
      }
      if (!dir.equals(target) && files.exists(dir) && !sameIdentity()) {
        files.delete(dir);
      }
      files.mkdirs(dir);
      files.deleteAbandoned(dir, n -> true);
      for (String sub : files.listNames(dir)) {  // files a killed run was writing
        Path p = HadoopFiles.child(dir, sub);
        if (files.isDirectory(p)) {
          files.deleteAbandoned(p, n -> n.startsWith("."));
        }
      }
      files.writeAtomically(new Path(dir, marker), identity.getBytes(StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      if (!existed) {
        try {
          files.delete(dir); // nothing of this run's is in it yet
        } catch (RuntimeException ignored) {
          // the error to report is e
        }
      }
      release();
      throw e;
    }
  }

  /** Ends the run: a replacement takes the earlier output's place only now; frees the lock. */
  public void commit() {
    if (!dir.equals(target)) {
      files.delete(target);
      files.rename(dir, target);
    }
    release();
  }

  private Path lockFile() {
    return HadoopFiles.child(target.getParent(), "." + target.getName() + ".lock");
  }

  private boolean locked;

  private void lock() {
    Path lock = lockFile();
    files.mkdirs(lock.getParent());
    String owner = TempNames.of(target.getName());
    if (!files.createExclusive(lock, owner)) {
      String holder = files.exists(lock) ? new String(files.read(lock), StandardCharsets.UTF_8) : "";
      if (!TempNames.abandoned(holder)) {
        throw new BadConfig(target + ": another run is writing it (" + lock + " names " + holder
            + "); wait for it, or delete the lock if that run is gone");
      }
      files.delete(lock); // its writer was killed
      if (!files.createExclusive(lock, owner)) {
        throw new BadConfig(target + ": another run took it meanwhile (" + lock + ")");
      }
    }
    locked = true;
  }

  /** Frees the lock (after a failure too); does nothing when not holding it. */
  public void release() {
    if (locked) {
      locked = false;
      try {
        files.delete(lockFile());
      } catch (RuntimeException ignored) {
        // a lock left behind names a dead writer: the next run takes it over
      }
    }
  }
}

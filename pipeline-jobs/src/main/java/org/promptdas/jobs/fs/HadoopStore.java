package org.promptdas.jobs.fs;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.io.zarr.KeyValueStore;

/**
 * A Zarr {@link KeyValueStore} on any Hadoop file system: one file per key under {@code root},
 * written atomically ({@link HadoopFiles#writeAtomically}). Thread-safe.
 */
public record HadoopStore(HadoopFiles files, Path root) implements KeyValueStore {

  @Override
  public byte[] get(String key) {
    Path p = HadoopFiles.child(root, key);
    try (InputStream in = files.fs(p).open(p)) {
      return in.readAllBytes();
    } catch (FileNotFoundException e) {
      return null;
    } catch (IOException e) {
      throw new BadInput(p + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  @Override
  public void put(String key, byte[] value) {
    files.writeAtomically(HadoopFiles.child(root, key), value);
  }

  @Override
  public String describe() {
    return root.toString();
  }
}

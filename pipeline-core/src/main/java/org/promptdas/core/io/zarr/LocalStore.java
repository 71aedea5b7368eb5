package org.promptdas.core.io.zarr;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/** A {@link KeyValueStore} on a local folder: one file per key. Thread-safe. */
public record LocalStore(Path root) implements KeyValueStore {

  @Override
  public byte[] get(String key) {
    try {
      return Files.readAllBytes(root.resolve(key));
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(root.resolve(key) + ": cannot be read", e);
    }
  }

  @Override
  public void put(String key, byte[] value) {
    Path target = root.resolve(key);
    try {
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
      Files.write(tmp, value);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(target + ": cannot be written", e);
    }
  }

  @Override
  public String describe() {
    return root.toString();
  }
}

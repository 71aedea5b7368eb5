package org.promptdas.core.io.zarr;

/**
 * The one seam between Zarr and where its keys live (a local folder, any Hadoop file system):
 * whole values by key, keys relative to the store's root with {@code /} separators. Implementations
 * say whether they are thread-safe; both of this project's are.
 */
public interface KeyValueStore {
  /** The value of {@code key}, or null when there is none. */
  byte[] get(String key);

  /** Writes {@code key} so that readers see the old value or the new one, never a part. */
  void put(String key, byte[] value);

  /** The store's location, for messages. */
  String describe();

  /** True when {@code key} has a value. */
  default boolean has(String key) {
    return get(key) != null;
  }
}

package org.promptdas.core.config;

import com.typesafe.config.Config;

/**
 * Typed overrides of a configuration, for code that runs one stage from another (the demo, the
 * sweep): each value is checked by its parameter's validator as it is set, so a wrong key or type
 * is a compile error and a wrong value fails at once, naming the key. Immutable, thread-safe.
 *
 * <pre>{@code
 * Config c = Overrides.of(config).set(TileStage.CROP, 64).set(TileStage.STRIDE, 32).config();
 * }</pre>
 *
 * @param config the configuration with every override so far
 */
public record Overrides(Config config) {
  public static Overrides of(Config config) {
    return new Overrides(config);
  }

  /** These overrides plus {@code param = value}. */
  public <T> Overrides set(Param<T> param, T value) {
    return new Overrides(param.set(config, value));
  }
}

package org.promptdas.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.promptdas.core.PromptDasException.BadConfig;

/**
 * The validated values of a stage's parameters. {@link #of} reads every parameter, collects every
 * problem, and throws one {@link BadConfig} that lists them all, so a user fixes a configuration in
 * one round instead of one error per run. Immutable.
 */
public final class Settings {
  private final Map<String, Object> values;
  private final Config config;

  private Settings(Map<String, Object> values, Config config) {
    this.values = values;
    this.config = config;
  }

  /** Reads and validates {@code params} from {@code config}; throws with all problems listed. */
  public static Settings of(Config config, List<Param<?>> params) {
    List<String> errors = new ArrayList<>();
    Map<String, Object> values = new HashMap<>();
    for (Param<?> p : params) {
      Object v = p.read(config, errors);
      if (v != null) {
        values.put(p.path(), v);
      }
    }
    if (!errors.isEmpty()) {
      throw new BadConfig("invalid configuration:\n  - " + String.join("\n  - ", errors));
    }
    return new Settings(values, config);
  }

  @SuppressWarnings("unchecked")
  public <T> T get(Param<T> p) {
    Object v = values.get(p.path());
    if (v == null) {
      throw new IllegalArgumentException(p.path() + " was not declared for these settings");
    }
    return (T) v;
  }

  /** The resolved configuration these settings were read from, as compact JSON (for provenance). */
  public String renderJson(String rootPath) {
    return config.getConfig(rootPath).root().render(ConfigRenderOptions.concise().setFormatted(true));
  }
}

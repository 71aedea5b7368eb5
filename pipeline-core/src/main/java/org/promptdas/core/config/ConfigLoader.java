package org.promptdas.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.promptdas.core.PromptDasException.BadConfig;

/**
 * Builds the effective configuration: command-line overrides ({@code key=value}, HOCON syntax) over
 * the given files (later files win) over the bundled defaults ({@value #DEFAULTS}, a copy of
 * {@code conf/application.conf}). Keys under {@value #ROOT} that the defaults do not know are
 * refused with a suggestion, so a typo never silently falls back to a default.
 */
public final class ConfigLoader {
  /** The root of every key of this project. */
  public static final String ROOT = "prompt-das";
  /** Classpath resource holding the documented defaults. */
  public static final String DEFAULTS = "org/promptdas/application.conf";

  private ConfigLoader() {}

  public static Config defaults() {
    Config d = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), DEFAULTS,
        ConfigParseOptions.defaults().setAllowMissing(false));
    return d.resolve();
  }

  public static Config load(List<Path> files, List<String> overrides) {
    Config defaults = defaults();
    Config merged = ConfigFactory.empty();
    List<String> errors = new ArrayList<>();
    for (String o : overrides) {
      int eq = o.indexOf('=');
      if (eq <= 0) {
        errors.add("override '" + o + "' is not key=value");
        continue;
      }
      try {
        List<String> path = new ArrayList<>(ConfigUtil.splitPath(o.substring(0, eq).trim()));
        if (!path.get(0).equals(ROOT)) {
          path.add(0, ROOT);
        }
        merged = ConfigFactory.parseString(ConfigUtil.joinPath(path) + " = " + o.substring(eq + 1))
            .withFallback(merged);
      } catch (ConfigException e) {
        errors.add("override '" + o + "' is not valid HOCON: " + e.getMessage());
      }
    }
    for (int i = files.size() - 1; i >= 0; i--) {
      Path f = files.get(i);
      if (!Files.isRegularFile(f)) {
        errors.add(f + ": configuration file not found");
        continue;
      }
      try {
        merged = merged.withFallback(ConfigFactory.parseFile(f.toFile(),
            ConfigParseOptions.defaults().setAllowMissing(false)));
      } catch (ConfigException e) {
        errors.add(f + ": " + e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new BadConfig("invalid configuration:\n  - " + String.join("\n  - ", errors));
    }
    Config resolved;
    try {
      resolved = merged.withFallback(defaults).resolve();
    } catch (ConfigException e) {
      throw new BadConfig("invalid configuration: " + e.getMessage());
    }
    checkKnownKeys(merged, defaults);
    return resolved;
  }

  private static void checkKnownKeys(Config given, Config defaults) {
    if (!given.hasPath(ROOT)) {
      return;
    }
    Set<Map.Entry<String, ConfigValue>> entries = given.getConfig(ROOT).entrySet();
    List<String> errors = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : entries) {
      String key = ROOT + "." + e.getKey();
      if (!defaults.hasPathOrNull(key) && !underOpenSection(key, defaults)) {
        errors.add("unknown key " + key + nearest(key, defaults));
      }
    }
    if (!errors.isEmpty()) {
      throw new BadConfig("invalid configuration:\n  - " + String.join("\n  - ", errors));
    }
  }

  /** Sections whose defaults are an empty object accept any key (e.g. extra Spark settings). */
  private static boolean underOpenSection(String key, Config defaults) {
    List<String> parts = ConfigUtil.splitPath(key);
    for (int n = parts.size() - 1; n > 0; n--) {
      String prefix = ConfigUtil.joinPath(parts.subList(0, n));
      if (defaults.hasPath(prefix)) {
        return defaults.getValue(prefix).valueType() == ConfigValueType.OBJECT
            && defaults.getConfig(prefix).isEmpty();
      }
    }
    return false;
  }

  /** A "did you mean" hint: the closest known key by edit distance, or one that extends/prefixes it. */
  private static String nearest(String key, Config defaults) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (Map.Entry<String, ConfigValue> e : defaults.getConfig(ROOT).entrySet()) {
      String cand = ROOT + "." + e.getKey();
      int d = distance(key, cand);
      boolean related = d <= 3 || key.startsWith(cand) || cand.startsWith(key);
      if (related && d < bestD) {
        bestD = d;
        best = cand;
      }
    }
    return best != null ? " (did you mean " + best + "?)" : "";
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}

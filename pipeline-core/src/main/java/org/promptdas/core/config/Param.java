package org.promptdas.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import org.promptdas.core.PromptDasException;

/**
 * One named, documented, validated configuration parameter, in the manner of Spark ML's
 * {@code Param}: a HOCON path, a doc string, a reader for its type and a validator. Its default
 * lives in {@code conf/application.conf} (bundled into the jar), so there is one place for every
 * default; a test checks that every parameter has one.
 *
 * @param <T> the value type
 */
public final class Param<T> {
  private final String path;
  private final String doc;
  private final Function<Config, T> reader;
  private final Predicate<T> valid;
  private final String rule;

  private Param(String path, String doc, Function<Config, T> reader, Predicate<T> valid, String rule) {
    this.path = path;
    this.doc = doc;
    this.reader = reader;
    this.valid = valid;
    this.rule = rule;
  }

  public static Param<Integer> integer(String path, String doc, int min, int max) {
    return new Param<>(path, doc, c -> c.getInt(path), v -> v >= min && v <= max,
        "an integer in " + min + ".." + max);
  }

  public static Param<Long> longValue(String path, String doc) {
    return new Param<>(path, doc, c -> c.getLong(path), v -> true, "an integer");
  }

  public static Param<Double> number(String path, String doc, double min, double max) {
    return new Param<>(path, doc, c -> c.getDouble(path), v -> v >= min && v <= max,
        "a number in [" + min + ", " + max + "]");
  }

  public static Param<Boolean> bool(String path, String doc) {
    return new Param<>(path, doc, c -> c.getBoolean(path), v -> true, "true or false");
  }

  /** A string that may be empty (an optional path or name). */
  public static Param<String> string(String path, String doc) {
    return new Param<>(path, doc, c -> c.getString(path), v -> true, "a string");
  }

  /** A string that must be set (a required input or output path). */
  public static Param<String> required(String path, String doc) {
    return new Param<>(path, doc, c -> c.getString(path), v -> !v.isBlank(), "set (it has no default)");
  }

  /** One of a fixed set of lower-case words. */
  public static Param<String> oneOf(String path, String doc, List<String> choices) {
    return new Param<>(path, doc, c -> c.getString(path).trim().toLowerCase(Locale.ROOT),
        choices::contains, "one of " + choices);
  }

  public static Param<List<String>> strings(String path, String doc, boolean nonEmpty) {
    return new Param<>(path, doc, c -> c.getStringList(path), v -> !nonEmpty || !v.isEmpty(),
        nonEmpty ? "a non-empty list of strings" : "a list of strings");
  }

  /** A non-empty list of numbers, each in [min, max]. */
  public static Param<List<Double>> numbers(String path, String doc, double min, double max) {
    return numbers(path, doc, min, max, true);
  }

  /** A list of numbers, each in [min, max], that may be empty unless {@code nonEmpty}. */
  public static Param<List<Double>> numbers(String path, String doc, double min, double max, boolean nonEmpty) {
    return new Param<>(path, doc, c -> c.getDoubleList(path),
        v -> (!nonEmpty || !v.isEmpty()) && v.stream().allMatch(x -> x >= min && x <= max),
        (nonEmpty ? "a non-empty list" : "a list") + " of numbers in [" + min + ", " + max + "]");
  }

  public String path() {
    return path;
  }

  public String doc() {
    return doc;
  }

  /** What a valid value looks like, for error messages and help. */
  public String rule() {
    return rule;
  }

  /**
   * Reads and validates this parameter. Problems are appended to {@code errors} (so that all of a
   * configuration's problems are reported at once) and null is returned.
   */
  T read(Config config, List<String> errors) {
    T value;
    try {
      value = reader.apply(config);
    } catch (ConfigException.Missing e) {
      errors.add(path + " is missing: " + doc + " (must be " + rule + ")");
      return null;
    } catch (ConfigException e) {
      errors.add(path + " has the wrong type: " + e.getMessage().replaceFirst("^.*?: ", "")
          + " (must be " + rule + ")");
      return null;
    }
    if (!valid.test(value)) {
      errors.add(path + " = " + render(value) + " is invalid: must be " + rule + " (" + doc + ")");
      return null;
    }
    return value;
  }

  /**
   * {@code config} with this parameter set to {@code value}, which must be valid.
   *
   * @throws PromptDasException.BadConfig naming the key, the value and the rule, when it is not
   */
  public Config set(Config config, T value) {
    if (value == null || !valid.test(value)) {
      throw new PromptDasException.BadConfig(path + " = " + render(value) + " is invalid: must be " + rule
          + " (" + doc + ")");
    }
    return config.withValue(path, ConfigValueFactory.fromAnyRef(value));
  }

  private static String render(Object v) {
    return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
  }

  @Override
  public String toString() {
    return path + ": " + doc;
  }
}

package org.promptdas.jobs.fs;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of temporary files and folders that say who wrote them: {@code .NAME.tmp-PID@HOST-XXXXXXXX}.
 * A later run can then tell the leftovers of a killed run (same host, process gone) from the work
 * of a run still going, and delete only the former. Stateless and thread-safe.
 */
public final class TempNames {
  private static final Pattern OWNED = Pattern.compile("\\.tmp-(\\d+)@(.+)-[0-9a-f]{8}$");
  private static final String HOST = host();

  private TempNames() {}

  /** A temporary sibling name for {@code name}, unique to this process and call. */
  public static String of(String name) {
    return "." + name + ".tmp-" + ProcessHandle.current().pid() + "@" + HOST + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  /** True when {@code name} is a temporary name of {@code target} ({@link #of}). */
  public static boolean isTempOf(String name, String target) {
    return name.startsWith("." + target + ".tmp-") && OWNED.matcher(name).find();
  }

  /** True when {@code name} is a temporary name whose writer ran on this host and has ended. */
  public static boolean abandoned(String name) {
    Matcher m = OWNED.matcher(name);
    return m.find() && m.group(2).equals(HOST) && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty();
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}

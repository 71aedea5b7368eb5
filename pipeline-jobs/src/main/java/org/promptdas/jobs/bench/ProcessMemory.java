package org.promptdas.jobs.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This JVM's resident memory as Linux reports it in {@code /proc/self/status} (heap, off-heap
 * ND4J buffers and native libraries together), in GiB; NaN where there is no {@code /proc}.
 */
final class ProcessMemory {
  private static final Path STATUS = Path.of("/proc/self/status");

  private ProcessMemory() {}

  /** The highest resident memory since start or the last {@link #resetPeak}. */
  static double peakGb() {
    return statusGb("VmHWM:");
  }

  /** The resident memory now. */
  static double residentGb() {
    return statusGb("VmRSS:");
  }

  /**
   * Starts a new peak from the current resident memory (Linux 4.0+: {@code clear_refs} 5); returns
   * whether it could, so that callers can say their peak covers the whole run otherwise.
   */
  static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private static double statusGb(String field) {
    if (!Files.exists(STATUS)) {
      return Double.NaN;
    }
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0 / 1024.0;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Double.NaN;
  }
}

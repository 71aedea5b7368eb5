package org.promptdas.model.engine;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Passes standard output through line by line, except SameDiff M2.1's "Added differentiated op"
 * lines (printed with {@code System.out.println} while a backward graph is built, no logger to
 * turn off): other threads' output meanwhile is kept. Thread-safe.
 */
final class QuietOutput extends OutputStream {
  static final String DROPPED = "Added differentiated op ";
  private final PrintStream target;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();

  QuietOutput(PrintStream target) {
    this.target = target;
  }

  @Override
  public synchronized void write(int b) {
    line.write(b);
    if (b == '\n') {
      flushPartialLine();
    }
  }

  /** Writes what has been collected, unless it is a dropped line. */
  synchronized void flushPartialLine() {
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (!text.startsWith(DROPPED)) {
      target.print(text);
      target.flush();
    }
  }
}

package org.promptdas.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class QuietOutputTest {
  @Test
  void onlySameDiffsProgressLinesAreDropped() {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    QuietOutput f = new QuietOutput(new PrintStream(seen, true, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(f, true, StandardCharsets.UTF_8);
    out.println("Added differentiated op matmul");
    out.println("another thread's line");
    out.print("Added differentiated op relu\nunfinished");
    f.flushPartialLine();
    assertEquals("another thread's line" + System.lineSeparator() + "unfinished", seen.toString(StandardCharsets.UTF_8));
  }
}

package org.promptdas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md is what the parameters render today. */
class ConfigurationDocTest {
  @Test
  void theConfigurationReferenceIsCurrent() throws Exception {
    String committed = Files.readString(Path.of("..", "docs", "configuration.md"));
    assertEquals(ConfigurationDoc.render(), committed,
        "docs/configuration.md is stale: regenerate it with bin/prompt-das config-doc > docs/configuration.md");
  }

  @Test
  void everyStageParameterIsInIt() {
    String doc = ConfigurationDoc.render();
    for (StageCommand s : ConfigurationDoc.stages()) {
      s.params().forEach(p -> assertTrue(doc.contains("`" + p.path().substring("prompt-das.".length()) + "`"), p.path()));
    }
  }
}

package org.promptdas.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.promptdas.core.PromptDasException;

class OverridesTest {
  private static final Param<Integer> CROP = Param.integer("x.crop", "crop size", 8, 64);
  private static final Param<List<Double>> FRACTIONS = Param.numbers("x.fractions", "fractions", 0, 1);
  private static final Param<String> MODE = Param.oneOf("x.mode", "mode", List.of("uda", "wda"));

  @Test
  void setsTypedValuesThatReadBackAndLeavesTheOriginalAlone() {
    Config base = ConfigFactory.parseString("x { crop = 16, fractions = [0], mode = uda }");
    Config c = Overrides.of(base).set(CROP, 32).set(FRACTIONS, List.of(0.0, 0.15)).set(MODE, "wda").config();
    Settings s = Settings.of(c, List.of(CROP, FRACTIONS, MODE));
    assertEquals(32, s.get(CROP));
    assertEquals(List.of(0.0, 0.15), s.get(FRACTIONS));
    assertEquals("wda", s.get(MODE));
    assertEquals(16, base.getInt("x.crop"));
  }

  @Test
  void anInvalidValueIsRefusedNamingTheKeyAndTheRule() {
    Overrides o = Overrides.of(ConfigFactory.empty());
    PromptDasException.BadConfig e = assertThrows(PromptDasException.BadConfig.class, () -> o.set(CROP, 65));
    assertTrue(e.getMessage().contains("x.crop = 65") && e.getMessage().contains("8..64"), e.getMessage());
    assertThrows(PromptDasException.BadConfig.class, () -> o.set(MODE, "oracle"));
    assertThrows(PromptDasException.BadConfig.class, () -> o.set(FRACTIONS, List.of(1.5)));
  }
}

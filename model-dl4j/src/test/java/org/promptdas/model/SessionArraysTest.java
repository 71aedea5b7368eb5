package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.model.network.SessionArrays;

/** The session cache's size switch: its default and the error a bad value gives. */
class SessionArraysTest {
  @AfterEach
  void clear() {
    System.clearProperty(SessionArrays.CACHE_FRACTION);
  }

  @Test
  void theCacheFractionDefaultsToHalfAndTakesAFraction() {
    assertEquals(0.5, SessionArrays.cacheFraction());
    System.setProperty(SessionArrays.CACHE_FRACTION, "0.25");
    assertEquals(0.25, SessionArrays.cacheFraction());
  }

  @Test
  void aBadCacheFractionNamesTheSwitch() {
    for (String bad : new String[] {"1.5", "0", "half"}) {
      System.setProperty(SessionArrays.CACHE_FRACTION, bad);
      BadInput e = assertThrows(BadInput.class, SessionArrays::cacheFraction);
      assertTrue(e.getMessage().contains("-Dpromptdas.session-cache=" + bad), e.getMessage());
    }
  }
}

package org.promptdas.core.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.promptdas.core.image.IntImage;
import org.promptdas.core.labels.Components;
import org.promptdas.core.labels.ConnectedComponents;
import org.promptdas.core.labels.Connectivity;
import org.promptdas.core.labels.Instances;

class SynthEmTest {

  @Test
  void sameSeedSameSlice() {
    SynthEm.Sample a = SynthEm.generate(Domain.SOURCE, 200, 150, 3);
    SynthEm.Sample b = SynthEm.generate(Domain.SOURCE, 200, 150, 3);
    assertEquals(a.image(), b.image());
    assertEquals(a.labels(), b.labels());
    assertNotEquals(a.image(), SynthEm.generate(Domain.SOURCE, 200, 150, 4).image());
  }

  @Test
  void labelsAreExactInstances() {
    SynthEm.Sample s = SynthEm.generate(Domain.TARGET, 384, 384, 9);
    Components ids = Instances.ofIds(s.labels());
    assertEquals(s.instances(), s.labels().max());
    assertEquals(s.instances(), ids.count());
    // instances are separated, so each id is exactly one 8-connected component
    Components cc = ConnectedComponents.label(s.labels(), Connectivity.EIGHT);
    assertEquals(ids.count(), cc.count());
    assertTrue(s.instances() > 10, "a 384x384 target slice holds many mitochondria");
  }

  @Test
  void domainsDifferInLookAndObjectSize() {
    double[] src = stats(Domain.SOURCE);
    double[] tgt = stats(Domain.TARGET);
    assertTrue(src[0] > tgt[0] * 1.5, "source mitochondria are larger");
    assertTrue(tgt[1] > src[1] * 1.5, "target images are noisier");
    assertTrue(src[2] > tgt[2], "source mitochondria contrast more with the cytoplasm");
  }

  /** {mean instance area, background roughness, background minus mitochondrion mean}. */
  private static double[] stats(Domain d) {
    SynthEm.Sample s = SynthEm.generate(d, 512, 512, 1);
    IntImage img = s.image();
    int[] lab = s.labels().data();
    double in = 0;
    double out = 0;
    long nIn = 0;
    long nOut = 0;
    double rough = 0;
    long nRough = 0;
    for (int i = 0; i < lab.length; i++) {
      if (lab[i] != 0) {
        in += img.data()[i];
        nIn++;
      } else {
        out += img.data()[i];
        nOut++;
        if (i % 512 < 511 && lab[i + 1] == 0) {
          rough += Math.abs(img.data()[i] - img.data()[i + 1]);
          nRough++;
        }
      }
    }
    return new double[] {nIn / (double) s.instances(), rough / nRough, out / nOut - in / nIn};
  }
}

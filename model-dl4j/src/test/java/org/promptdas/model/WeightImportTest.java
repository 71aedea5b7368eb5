package org.promptdas.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.model.io.Safetensors;
import org.promptdas.model.io.WeightImport;
import org.promptdas.model.network.NetworkConfig;
import org.promptdas.model.network.Weights;

class WeightImportTest {

  private static byte[] safetensors(Map<String, INDArray> t) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Safetensors.write(out, t, Map.of());
    return out.toByteArray();
  }

  @Test
  void fullCheckpointRoundTripsWithItsConfigurationReadOffTheTensors() throws Exception {
    NetworkConfig cfg = new NetworkConfig(64, 8, 128, 3, 2, 4, 6, 2, 8, 96, 16, 8);
    Weights w = Weights.initialise(cfg, 3);
    Weights back = WeightImport.load("w", safetensors(w.tensors()), 64, 0);
    assertEquals(cfg, back.config());
    assertEquals(w.tensors().get("image_encoder.pos_embed"), back.tensors().get("image_encoder.pos_embed"));
  }

  @Test
  void dinoEncoderWeightsLoadWithAFreshDecoder() throws Exception {
    NetworkConfig cfg = new NetworkConfig(64, 8, 64, 2, 1, 4, 28, 2, 8, 2048, 256, 8);
    Weights w = Weights.initialise(cfg, 5);
    Map<String, INDArray> dino = new LinkedHashMap<>();
    w.tensors().forEach((k, v) -> {
      if (k.startsWith("image_encoder.")) {
        dino.put(k.substring("image_encoder.".length()), v);
      }
    });
    dino.put("cls_token", Nd4j.zeros(DataType.FLOAT, 1, 1, 64));
    Weights imported = WeightImport.load("dino", safetensors(dino), 64, 1);
    assertEquals(28, imported.config().posGrid());
    assertEquals(w.tensors().get("image_encoder.blocks.1.attn.qkv.weight"),
        imported.tensors().get("image_encoder.blocks.1.attn.qkv.weight"));
    PromptDasModel m = new PromptDasModel(imported);
    PromptDasModel.Output o = m.forward(Nd4j.randn(DataType.FLOAT, 1, 3, 64, 64), List.of(List.of()), null);
    assertTrue(o.det().sumNumber().doubleValue() != 0);
  }

  @Test
  void weightsOfAnotherNetworkAreRefusedByName() throws Exception {
    Map<String, INDArray> t = new LinkedHashMap<>(Weights.initialise(NetworkConfig.tiny(), 1).tensors());
    t.put("mask_decoder.something_else.weight", Nd4j.zeros(DataType.FLOAT, 2));
    BadInput e = assertThrows(BadInput.class, () -> WeightImport.load("other.safetensors", safetensors(t), 64, 0));
    assertTrue(e.getMessage().contains("unexpected tensor mask_decoder.something_else.weight"), e.getMessage());
    t.remove("mask_decoder.something_else.weight");
    t.put("mask_decoder.mask_tokens.weight", Nd4j.zeros(DataType.FLOAT, 1, 7));
    e = assertThrows(BadInput.class, () -> WeightImport.load("other.safetensors", safetensors(t), 64, 0));
    assertTrue(e.getMessage().contains("mask_decoder.mask_tokens.weight has shape [1, 7]"), e.getMessage());
  }
}

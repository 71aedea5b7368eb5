package org.promptdas.jobs.stages;

import java.util.concurrent.ConcurrentHashMap;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;

/**
 * One model per executor JVM and model hash: tasks receive the model file's bytes (a broadcast)
 * and load it here once, whatever the number of slices. Thread-safe; models are kept for the JVM's
 * life (a handful of distinct models per executor at most).
 */
final class ModelHolder {
  private static final ConcurrentHashMap<String, PromptDasModel> MODELS = new ConcurrentHashMap<>();

  private ModelHolder() {}

  static PromptDasModel get(String hash, byte[] bytes) {
    return MODELS.computeIfAbsent(hash, h -> ModelFile.fromBytes("model " + h, bytes, null));
  }
}

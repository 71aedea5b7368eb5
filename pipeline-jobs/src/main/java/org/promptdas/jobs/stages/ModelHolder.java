package org.promptdas.jobs.stages;

import java.util.LinkedHashMap;
import java.util.Map;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;

/**
 * One model per executor JVM, model hash and shard count ({@code PromptDasModel.sharded}): tasks receive the model file's bytes (a broadcast)
 * and load it here once, whatever the number of slices. Keeps the {@value #KEEP} most recently
 * used models: a sweep runs one model after another in the same executors, and each model holds
 * its graphs and their arrays. Thread-safe (tasks of one model wait while it loads).
 */
final class ModelHolder {
  static final int KEEP = 2;
  private static final Map<String, PromptDasModel> MODELS = new LinkedHashMap<>(4, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, PromptDasModel> eldest) {
      return size() > KEEP;
    }
  };

  private ModelHolder() {}

  static synchronized PromptDasModel get(String hash, byte[] bytes, int shards) {
    return MODELS.computeIfAbsent(hash + "/" + shards,
        k -> ModelFile.fromBytes("model " + hash, bytes, null).sharded(shards));
  }
}

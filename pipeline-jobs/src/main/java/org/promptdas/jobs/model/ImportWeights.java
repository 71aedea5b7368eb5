package org.promptdas.jobs.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.io.WeightImport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code import-weights}: converts the authors' weights (or DINO encoder weights, decoder then
 * initialised) into this project's model file, with the network configuration read off the tensors.
 */
@Command(name = "import-weights", mixinStandardHelpOptions = true,
    description = "Convert authors'/DINO .safetensors weights into a prompt-das model file.")
public final class ImportWeights implements Callable<Integer> {
  @Option(names = "--weights", required = true, description = "Weights (.safetensors).")
  Path weights;

  @Option(names = "--image-size", description = "Crop size the model will run at (default 384).")
  int imageSize = 384;

  @Option(names = "--seed", description = "Seed for initialising a missing decoder (default 0).")
  long seed;

  @Option(names = "--out", required = true, description = "Model file to write.")
  Path out;

  @Override
  public Integer call() throws Exception {
    PromptDasModel m = new PromptDasModel(WeightImport.load(weights.toString(),
        Files.readAllBytes(weights), imageSize, seed));
    ModelFile.save(m, out);
    System.out.println("wrote " + out + " for network " + m.config().toJson());
    return 0;
  }
}

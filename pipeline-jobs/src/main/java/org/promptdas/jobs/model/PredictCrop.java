package org.promptdas.jobs.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptdas.core.PromptDasException.BadInput;
import org.promptdas.core.io.AtomicFiles;
import org.promptdas.core.labels.Point;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.io.Npy;
import org.promptdas.model.io.WeightImport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code predict-crop}: one forward pass of the network on a normalised crop, in the layout of the
 * authors' parity case, so anyone can compare this implementation with the PyTorch one on any case
 * (the full-size network included): reads {@code image.npy} [1, 3, s, s] and {@code points.npy}
 * [p, 2] (pixel x, y; p may be 0), writes {@code seg.npy} [1, s/2, s/2] (sigmoid of the mask
 * logits, before upsampling) and {@code det.npy} [1, 1, s, s].
 */
@Command(name = "predict-crop", mixinStandardHelpOptions = true,
    description = "Run the network on one crop (.npy in, seg.npy and det.npy out) for parity checks.")
public final class PredictCrop implements Callable<Integer> {
  @Option(names = "--weights", required = true, description = "Weights in the authors' names (.safetensors).")
  Path weights;

  @Option(names = "--image", required = true, description = "image.npy, float32 [1, 3, s, s], normalised.")
  Path image;

  @Option(names = "--points", description = "points.npy, float32 [p, 2] pixel (x, y); none: no prompts.")
  Path points;

  @Option(names = "--out", required = true, description = "Output folder for seg.npy and det.npy.")
  Path out;

  @Override
  public Integer call() throws IOException {
    INDArray img = Npy.read(image.toString(), read(image));
    if (img.rank() != 4 || img.size(0) != 1 || img.size(1) != 3 || img.size(2) != img.size(3)) {
      throw new BadInput(image + ": expected shape [1, 3, s, s], got " + java.util.Arrays.toString(img.shape()));
    }
    List<Point> prompts = new ArrayList<>();
    if (points != null) {
      INDArray p = Npy.read(points.toString(), read(points));
      if (p.length() > 0 && (p.rank() != 2 || p.size(1) != 2)) {
        throw new BadInput(points + ": expected shape [p, 2], got " + java.util.Arrays.toString(p.shape()));
      }
      for (int i = 0; i < (p.length() == 0 ? 0 : p.size(0)); i++) {
        prompts.add(new Point(Math.round(p.getFloat(i, 0)), Math.round(p.getFloat(i, 1))));
        if (p.getFloat(i, 0) != Math.round(p.getFloat(i, 0)) || p.getFloat(i, 1) != Math.round(p.getFloat(i, 1))) {
          throw new BadInput(points + ": point " + i + " is not on a pixel; prompts are pixel positions");
        }
      }
    }
    PromptDasModel model = new PromptDasModel(
        WeightImport.load(weights.toString(), read(weights), (int) img.size(2), 0));
    PromptDasModel.Output o = model.forward(img, List.of(prompts), null);
    INDArray seg = org.nd4j.linalg.ops.transforms.Transforms.sigmoid(o.segLogits(), true);
    Files.createDirectories(out);
    write(out.resolve("seg.npy"), seg);
    write(out.resolve("det.npy"), o.det());
    System.out.println("network " + model.config().toJson());
    System.out.println("wrote " + out.resolve("seg.npy") + " " + java.util.Arrays.toString(seg.shape())
        + " and " + out.resolve("det.npy") + " " + java.util.Arrays.toString(o.det().shape()));
    return 0;
  }

  private static byte[] read(Path p) throws IOException {
    try {
      return Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      throw new BadInput(p + ": no such file");
    }
  }

  private static void write(Path target, INDArray a) throws IOException {
    AtomicFiles.write(target, os -> Npy.write(os, a));
  }
}

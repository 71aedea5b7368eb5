package org.promptdas.jobs.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptdas.model.ModelFile;
import org.promptdas.model.PromptDasModel;
import org.promptdas.model.network.Weights;
import org.promptdas.model.train.Checkpoint;
import org.promptdas.model.train.TrainingState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code export-model}: the model of a training checkpoint, as {@code train} writes it at the end
 * (the EMA teacher when the run keeps one: UDA, WDA and averaged source-only or oracle runs; else the
 * student; {@code --student} for the student always):
 * to score a run's progress, or to use a run before it ends.
 */
@Command(name = "export-model", mixinStandardHelpOptions = true,
    description = "Write the model file of a training checkpoint.")
public final class ExportModel implements Callable<Integer> {
  @Option(names = "--checkpoint", required = true, description = "A train checkpoint (step-N.ckpt).")
  Path checkpoint;

  @Option(names = "--student", description = "The student even when the run has a teacher.")
  boolean student;

  @Option(names = "--out", required = true, description = "Model file to write.")
  Path out;

  @Override
  public Integer call() throws Exception {
    TrainingState s = Checkpoint.read(checkpoint.toString(), Files.readAllBytes(checkpoint), null);
    boolean teacher = s.training().hasTeacher() && !student;
    ModelFile.save(new PromptDasModel(Weights.fromGraph(s.network(), teacher ? s.teacher() : s.student())), out);
    System.out.println("wrote " + out + " (the " + (teacher ? "teacher" : "student") + " at step " + s.step() + ")");
    return 0;
  }
}

package org.promptdas.jobs.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Where a graph's time goes: wall time and call count per op type (libnd4j's op name, e.g.
 * {@code matmul}, {@code add_bp}), summed over every graph it is {@linkplain #attach attached} to,
 * and for the products ({@link OpFlops}: matmul and its gradient, convolutions, tensordot) the
 * FLOPs they performed, so that each product type's GFLOP/s shows how close it runs to the
 * machine's matrix-multiply rate.
 * Backward graphs are included: an {@code Engine} runs them with their forward graph's
 * listeners. The time of an op runs from SameDiff's call before its execution to the call after,
 * so it covers the kernel and the op's own bookkeeping, not the session's work between ops;
 * compare {@link #seconds()} with the run's wall time to see that share. Not thread-safe: one
 * graph runs at a time.
 *
 * <pre>{@code
 * OpTimes times = new OpTimes();
 * times.attach(sd);
 * arrays.output(sd, inputs, "seg_logits");
 * System.out.print(times.table(10, 1));
 * }</pre>
 */
final class OpTimes extends BaseListener {
  /** One op type's total: its name, the number of calls, the seconds they took and their FLOPs (0 for non-products). */
  public record Entry(String op, long calls, double seconds, double flops) {}

  /** Calls, nanoseconds and FLOPs of one op type. */
  private static final class Total {
    long calls;
    long nanos;
    double flops;
  }

  private final Map<String, Total> totals = new HashMap<>();
  /** Per op instance (graph op name): its type, output shapes and totals. */
  private final Map<String, Instance> instances = new HashMap<>();
  private long started;

  /** Adds this listener to {@code sd}; returns {@code sd}. */
  public SameDiff attach(SameDiff sd) {
    sd.addListeners(this);
    return sd;
  }

  /** One op's totals, for {@link #slowest}: its type and the shapes of its first output. */
  private static final class Instance {
    final String type;
    final String shape;
    long calls;
    long nanos;

    Instance(String type, String shape) {
      this.type = type;
      this.shape = shape;
    }
  }

  /** Forgets every time recorded so far (e.g. after warm-up runs). */
  public void reset() {
    totals.clear();
    instances.clear();
  }

  /** Seconds of op time recorded since the last {@link #reset}. */
  public double seconds() {
    return totals.values().stream().mapToLong(t -> t.nanos).sum() / 1e9;
  }

  /** FLOPs the products performed since the last {@link #reset}. */
  public double flops() {
    return totals.values().stream().mapToDouble(t -> t.flops).sum();
  }

  /** Seconds the products ({@link OpFlops}) took since the last {@link #reset}. */
  public double productSeconds() {
    return totals.values().stream().filter(t -> t.flops > 0).mapToLong(t -> t.nanos).sum() / 1e9;
  }

  /** The op types by time, longest first. */
  public List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    totals.forEach((op, t) -> out.add(new Entry(op, t.calls, t.nanos / 1e9, t.flops)));
    out.sort(Comparator.comparingDouble(Entry::seconds).reversed().thenComparing(Entry::op));
    return out;
  }

  /**
   * The {@code top} op types by time as text lines, each total divided by {@code runs} (so per run
   * when the times cover that many runs), products with their GFLOP/s, and a last line for all the
   * others.
   */
  public String table(int top, int runs) {
    StringBuilder sb = new StringBuilder();
    List<Entry> all = entries();
    double rest = 0;
    long restCalls = 0;
    for (int i = 0; i < all.size(); i++) {
      Entry e = all.get(i);
      if (i < top) {
        String rate = e.flops() > 0 && e.seconds() > 0
            ? String.format(Locale.ROOT, " %7.1f GFLOP/s", e.flops() / e.seconds() / 1e9) : "";
        sb.append(String.format(Locale.ROOT, "    %-24s %8.3f s %7d calls%s%n", e.op(),
            e.seconds() / runs, e.calls() / runs, rate));
      } else {
        rest += e.seconds();
        restCalls += e.calls();
      }
    }
    if (all.size() > top) {
      sb.append(String.format(Locale.ROOT, "    %-24s %8.3f s %7d calls%n",
          "(" + (all.size() - top) + " other ops)", rest / runs, restCalls / runs));
    }
    return sb.toString();
  }

  /**
   * The {@code top} single ops (by their name in the graph) that took the most time, as text lines
   * with their type, first output's shape and time per run ({@code runs} runs).
   */
  public String slowest(int top, int runs) {
    StringBuilder sb = new StringBuilder();
    instances.entrySet().stream()
        .sorted(Comparator.comparingLong((Map.Entry<String, Instance> e) -> e.getValue().nanos).reversed())
        .limit(top)
        .forEach(e -> sb.append(String.format(Locale.ROOT, "    %8.4f s %3d x %-14s %-22s %s%n",
            e.getValue().nanos / 1e9 / runs, e.getValue().calls / runs, e.getValue().type,
            e.getValue().shape, e.getKey())));
    return sb.toString();
  }

  @Override
  public boolean isActive(Operation operation) {
    return true;
  }

  @Override
  public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext ctx) {
    started = System.nanoTime();
  }

  @Override
  public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx,
      INDArray[] outputs) {
    long nanos = System.nanoTime() - started;
    String name = op.getOp().opName();
    Total t = totals.computeIfAbsent(name, k -> new Total());
    t.calls++;
    t.nanos += nanos;
    Instance i = instances.computeIfAbsent(op.getName(), k -> new Instance(name,
        outputs.length == 0 ? "[]" : java.util.Arrays.toString(outputs[0].shape())));
    i.calls++;
    i.nanos += nanos;
    if (ctx != null) {
      t.flops += OpFlops.of(name, op.getOp(), ctx.getInputArrays().toArray(new INDArray[0]), outputs);
    }
  }
}

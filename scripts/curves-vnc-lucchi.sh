#!/usr/bin/env bash
# Learning curves of the real-data benchmark's runs: every Nth checkpoint of each run in
# bench-out/vnc-lucchi/runs is exported (export-model), segments 5 Lucchi test slices (every 8th)
# without prompts and without rotation averaging (a quarter of the benchmark's cost), and is
# scored; the table (run, step, training minutes, highest probability, Dice, AJI, PQ) goes to
# curves.csv and, where python3-matplotlib is installed, the figure to
# docs/figures/vnc-lucchi-curves.png. Run after scripts/benchmark-vnc-lucchi.sh (or during it:
# finished checkpoints are scored once, the table grows).
#
#   scripts/curves-vnc-lucchi.sh [EVERY_NTH_CHECKPOINT]     # default 4
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${PROMPT_DAS_DATA:-$(cd "$root/.." && pwd)/shared/data}
work=${PROMPT_DAS_WORK:-$root/bench-out/vnc-lucchi}
every=${1:-4}
pd() { "$root/bin/prompt-das" "$@"; }
curves="$work/curves"
mkdir -p "$curves"
source "$root/scripts/lucchi-links.sh"
link_slices "$data/lucchi/test" "$curves/lucchi-5" 8
csv="$curves/curves.csv"
[ -f "$csv" ] || echo "run,step,minutes,max_probability,dice,aji,pq" >"$csv"
for run in "$work"/runs/*/; do
  name=$(basename "$run")
  [ -L "${run%/}" ] && continue # runs/uda, wda and oracle link to the chosen runs
  [ -d "$run/checkpoints" ] || continue
  k=0
  for ckpt in $(ls "$run/checkpoints"/step-*.ckpt | sort); do
    k=$((k + 1))
    step=$((10#$(basename "$ckpt" .ckpt | sed 's/step-//')))
    last=$(ls "$run/checkpoints"/step-*.ckpt | sort | tail -n 1)
    [ $((k % every)) -eq 0 ] || [ "$ckpt" = "$last" ] || continue
    grep -q "^$name,$step," "$csv" && continue
    cell="$curves/$name/$step"
    rm -rf "$cell"
    mkdir -p "$cell"
    pd export-model --checkpoint "$ckpt" --out "$cell/model.pdas" >/dev/null
    pd infer -c "$root/conf/vnc-to-lucchi.conf" --images "$curves/lucchi-5/img" --model "$cell/model.pdas" \
      --out "$cell/infer" --set infer.rotations=false >"$cell/infer.log" 2>&1
    pd evaluate -c "$root/conf/vnc-to-lucchi.conf" --pred "$cell/infer/mask" --gt "$curves/lucchi-5/lab" \
      --out "$cell/eval" --set evaluate.overlays=false >"$cell/eval.log" 2>&1
    python3 - "$cell" "$run/history.jsonl" "$name" "$step" >>"$csv" <<'EOF'
import glob, json, sys
cell, history, name, step = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
seconds = sum(r["seconds"] for r in map(json.loads, open(history)) if r["step"] <= step)
highest = max(json.load(open(f))["max_probability"] for f in glob.glob(cell + "/infer/stats/*.json"))
m = json.load(open(cell + "/eval/metrics.json"))["mean"]
print(f"{name},{step},{seconds / 60:.1f},{highest:.4f},{m['dice']:.4f},{m['aji']:.4f},{m['pq']:.4f}")
EOF
    rm -rf "$cell/infer/prob" "$cell/model.pdas"
    tail -n 1 "$csv"
  done
done
python3 - "$csv" "$root/docs/figures/vnc-lucchi-curves.png" <<'EOF' || echo "(no figure: python3-matplotlib is not installed)"
import csv, re, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(sys.argv[1])))
order = ["source-only", "source-only-continued", "uda", "wda", "oracle"]
mode = lambda n: re.split(r"-(?:share|steps)-", n)[0]  # uda-share-0.25, oracle-steps-2000: the mode
runs = sorted({r["run"] for r in rows}, key=lambda n: (order.index(mode(n)) if mode(n) in order else 9, n))
fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
for a in ax:
    a.set_prop_cycle(color=plt.cm.tab20.colors)
so = [r for r in rows if r["run"] == "source-only"]
start = max((float(r["minutes"]) for r in so), default=0)
for run in runs:
    rs = sorted((r for r in rows if r["run"] == run), key=lambda r: int(r["step"]))
    x = [float(r["minutes"]) + (0 if run == "source-only" else start) for r in rs]
    ax[0].plot(x, [float(r["max_probability"]) for r in rs], marker="o", ms=3, label=run)
    ax[1].plot(x, [100 * float(r["dice"]) for r in rs], marker="o", ms=3, label=run)
ax[0].set_ylabel("highest probability on Lucchi test")
ax[1].set_ylabel("Dice at 0.5 (%), no prompts")
for a in ax:
    a.set_xlabel("training minutes (2 cores; adapted runs start at the source model)")
    a.grid(alpha=0.3)
fig.tight_layout()
fig.legend(*ax[1].get_legend_handles_labels(), fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
fig.savefig(sys.argv[2], dpi=110, bbox_inches="tight")
print("figure:", sys.argv[2])
EOF

#!/usr/bin/env bash
# The accuracy cost of infer's fast modes on real data: one model segments the benchmark's Lucchi
# test slices (every 2nd of lucchi/test, 20) with the paper's protocol (4 rotations, a third of
# the window as stride) and with fewer windows (half or all of the window as stride, rotations
# off), without prompts; each mode is scored (Dice, AJI, PQ; threshold 0.5, components of 15 px
# or fewer removed) beside infer's wall-clock seconds per slice (the stage's time over the slice
# count: with local[*] two slices run at a time on 2 cores). Rows go to modes.csv in the work
# folder; finished rows are kept when rerun.
#
#   scripts/infer-modes-lucchi.sh [MODEL.pdas]    # default models/vnc-to-lucchi/oracle.pdas
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${PROMPT_DAS_DATA:-$(cd "$root/.." && pwd)/shared/data}
work=${PROMPT_DAS_WORK:-$root/bench-out/infer-modes}
model=${1:-$root/models/vnc-to-lucchi/oracle.pdas}
[ -f "$model" ] || { echo "infer-modes: $model is missing" >&2; exit 2; }
[ -d "$data/lucchi/test/img" ] || { echo "infer-modes: $data/lucchi/test is missing (set PROMPT_DAS_DATA)" >&2; exit 2; }
pd() { "$root/bin/prompt-das" "$@"; }
mkdir -p "$work"
test="$work/lucchi-test"
source "$root/scripts/lucchi-links.sh"
link_slices "$data/lucchi/test" "$test" 2
name=$(basename "$model" .pdas)
csv="$work/modes.csv"
[ -f "$csv" ] || echo "model,rotations,stride,windows_per_slice,wall_seconds_per_slice,dice,aji,pq" >"$csv"
# rotations, stride (the model's windows are 128 px: a third, half and all of a window)
for mode in "true 42" "true 64" "false 42" "false 64" "false 128"; do
  set -- $mode
  grep -q "^$name,$1,$2," "$csv" && continue
  cell="$work/$name-rot$1-s$2"
  pd infer -c "$root/conf/vnc-to-lucchi.conf" --images "$test/img" --model "$model" --out "$cell/infer" \
    --set "infer.rotations=$1" --set "infer.stride=$2" --overwrite >"$cell.infer.log" 2>&1
  pd evaluate -c "$root/conf/vnc-to-lucchi.conf" --pred "$cell/infer/mask" --gt "$test/lab" --out "$cell/eval" \
    --set evaluate.overlays=false --overwrite >"$cell.eval.log" 2>&1
  python3 - "$cell" "$name" "$1" "$2" >>"$csv" <<'PY'
import glob, json, re, sys
cell, name, rot, stride = sys.argv[1], sys.argv[2], sys.argv[3] == "true", int(sys.argv[4])
wall = float(re.findall(r"infer finished in ([0-9.]+)s", open(cell + ".infer.log").read())[-1])
stats = [json.load(open(f)) for f in glob.glob(cell + "/infer/stats/*.json")]
def positions(n):
    return (n - 128 + stride - 1) // stride + 1
windows = positions(stats[0]["width"]) * positions(stats[0]["height"]) * (4 if rot else 1)
m = json.load(open(cell + "/eval/metrics.json"))["mean"]
print(f"{name},{str(rot).lower()},{stride},{windows},{wall / len(stats):.1f},"
      f"{m['dice']:.4f},{m['aji']:.4f},{m['pq']:.4f}")
PY
  rm -rf "$cell/infer/prob"
  tail -n 1 "$csv"
done

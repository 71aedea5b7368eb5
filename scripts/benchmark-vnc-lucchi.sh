#!/usr/bin/env bash
# The real-data benchmark: VNC (source, labelled) -> Lucchi (target) with the cpu network trained
# from scratch on this CPU, the project's own Table 1: source-only, UDA, WDA (15% points) and the
# oracle (all target labels), each adapted model starting from the source-only one, and a control
# (source-only continued for as many steps as the adapted runs); scored on every 2nd slice of
# lucchi/test (20 of 40) without and with 15% testing prompts, and with self-prompting. Settings:
# conf/vnc-to-lucchi.conf. Not a test: about two and a half hours on 2 cores (docs/benchmarks.md).
#
#   scripts/benchmark-vnc-lucchi.sh            # data from ../shared/data, work in bench-out/vnc-lucchi
#   PROMPT_DAS_DATA=/data PROMPT_DAS_WORK=/tmp/b scripts/benchmark-vnc-lucchi.sh
#
# Every stage is resumable: rerunning after an interruption continues (tile, points and train
# skip what is complete; train resumes from its newest checkpoint; sweep skips finished cells).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PROMPT_DAS_DATA=${PROMPT_DAS_DATA:-$(cd "$root/.." && pwd)/shared/data}
export PROMPT_DAS_WORK=${PROMPT_DAS_WORK:-$root/bench-out/vnc-lucchi}
data=$PROMPT_DAS_DATA
work=$PROMPT_DAS_WORK
conf=(-c "$root/conf/vnc-to-lucchi.conf")
pd() { "$root/bin/prompt-das" "$@"; }
for f in "$data/vnc/img" "$data/vnc/lab" "$data/lucchi/train/img" "$data/lucchi/train/lab" "$data/lucchi/test/img"; do
  [ -d "$f" ] || { echo "benchmark: $f is missing (set PROMPT_DAS_DATA)" >&2; exit 2; }
done
mkdir -p "$work"
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

# the test set: every 2nd slice of lucchi/test, as links (nothing is copied)
source "$root/scripts/lucchi-links.sh"
link_slices "$data/lucchi/test" "$work/lucchi-test" 2

step "tile VNC (source) and Lucchi train (target: 15% points for WDA, labels for the oracle)"
[ -d "$work/crops/vnc" ] || pd tile "${conf[@]}" --images "$data/vnc/img" --labels "$data/vnc/lab" \
  --volume vnc --out "$work/crops/vnc"
[ -d "$work/points" ] || pd points "${conf[@]}" --labels "$data/lucchi/train/lab" --out "$work/points"
[ -d "$work/crops/lucchi" ] || pd tile "${conf[@]}" --images "$data/lucchi/train/img" \
  --labels "$data/lucchi/train/lab" --points "$work/points" --volume lucchi --out "$work/crops/lucchi"

train() { # run name, mode, steps, batch, init, learning rate
  local out="$work/runs/$1"
  if [ -f "$out/model.pdas" ]; then echo "$1: done"; return; fi
  pd train "${conf[@]}" --mode "$2" --out "$out" --set "train.steps=$3" --set "train.batch=$4" \
    --set "train.init=\"$5\"" --set "train.learning-rate=$6" --resume
}
step "train source-only"
train source-only source-only "${SOURCE_STEPS:-3000}" 8 "" 1e-3
# adapted modes: 4 source + 4 target crops per step, at half the learning rate
for mode in uda wda oracle; do
  step "train $mode from the source-only model"
  train "$mode" "$mode" "${ADAPT_STEPS:-1000}" 4 "$work/runs/source-only/model.pdas" 5e-4
done
# the control: as many further steps on source crops alone, so that what the adapted models gain
# from their extra training on source crops is not mistaken for adaptation
step "train source-only-continued from the source-only model (control)"
train source-only-continued source-only "${ADAPT_STEPS:-1000}" 4 "$work/runs/source-only/model.pdas" 5e-4

step "sweep: every model on lucchi/test, 0% and 15% testing prompts"
pd sweep "${conf[@]}"
step "sweep with self-prompting: every model on lucchi/test without testing prompts"
pd sweep "${conf[@]}" --set sweep.prompt-modes=[auto] --set sweep.prompt-fractions=[0] \
  --set "sweep.out=\"$work/sweep-auto\""
step "the models against models/vnc-to-lucchi"
for m in source-only uda wda oracle; do
  echo "$m: $(sha256sum <"$work/runs/$m/model.pdas" | cut -c1-64) (this run), $(sed -n 's/^- SHA-256: //p' \
    "$root/models/vnc-to-lucchi/$m.md" 2>/dev/null) (models/vnc-to-lucchi)"
done
step "done: $work/sweep/report.html, $work/sweep-auto/report.html"

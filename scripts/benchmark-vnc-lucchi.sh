#!/usr/bin/env bash
# The real-data benchmark: VNC (source, labelled) -> Lucchi (target) with the cpu network trained
# from scratch on this CPU, the project's own Table 1: source-only, UDA, WDA (15% points) and the
# oracle (all target labels), each adapted model starting from the source-only one, and a control
# (source-only continued for as many steps as UDA); scored on every 2nd slice of
# lucchi/test (20 of 40) without and with 15% testing prompts, and with self-prompting. The settings
# chosen on data are chosen on labelled Lucchi train slices, never on the test slices: the share of
# the pseudo-labels' weight on the target's foreground and WDA's threshold of detected points here
# (11 slices), self-prompting's threshold in the conf (docs/benchmarks.md). Settings:
# conf/vnc-to-lucchi.conf. Not a test: about three hours of training and one of scoring on 2 cores.
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
# runs/uda, runs/wda and runs/oracle are links to the chosen runs; an earlier script trained into
# some of these names, and a link is never made over a run
for f in "$work/runs/uda" "$work/runs/wda" "$work/runs/oracle"; do
  if [ -d "$f" ] && [ ! -L "$f" ]; then
    echo "benchmark: $f is a run of an earlier version of this script; rename it (e.g. to $f-steps-1000)" >&2
    exit 2
  fi
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

train() { # run name, mode, steps, batch, init, learning rate, further --set options
  local out="$work/runs/$1"
  if [ -f "$out/model.pdas" ]; then echo "$1: done"; return; fi
  pd train "${conf[@]}" --mode "$2" --out "$out" --set "train.steps=$3" --set "train.batch=$4" \
    --set "train.init=\"$5\"" --set "train.learning-rate=$6" "${@:7}" --resume
}
# Dice on the validation slices (every 5th Lucchi train slice, 11, with labels): chooses between
# candidate settings; the test slices are never used to choose anything
val_every=5
val_set="$work/lucchi-val-every-$val_every"
link_slices "$data/lucchi/train" "$val_set" "$val_every"
# val_dice: run name -> Dice (%) on the validation slices (scored again when the model, the conf or
# the slices change)
val_dice() {
  local key
  key=$( { cat "$work/runs/$1/model.pdas" "$root/conf/vnc-to-lucchi.conf"; ls "$val_set/img"; } | sha256sum | cut -c1-12)
  local cell="$work/val/$1-$key"
  if [ ! -f "$cell/eval/metrics.json" ]; then
    pd infer "${conf[@]}" --images "$val_set/img" --model "$work/runs/$1/model.pdas" --out "$cell/infer" >&2
    pd evaluate "${conf[@]}" --pred "$cell/infer/mask" --gt "$val_set/lab" --out "$cell/eval" \
      --set evaluate.overlays=false >&2
  fi
  python3 -c "import json, sys; print(round(100 * json.load(open(sys.argv[1]))['mean']['dice'], 1))" "$cell/eval/metrics.json"
}
choose() { # run names -> the one with the best validation Dice (the first of equals)
  local run dice best="" best_dice=""
  for run in "$@"; do
    dice=$(val_dice "$run")
    echo "$run: validation Dice $dice" >&2
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $dice > $best_dice else 1)"; then
      best=$run
      best_dice=$dice
    fi
  done
  echo "$best"
}

step "train source-only (an EMA of the student is the model)"
train source-only source-only "${SOURCE_STEPS:-3000}" 8 "" 1e-3 --set train.ema-alpha=0.998
# adapted modes: 4 source + 4 target crops per step, at half the learning rate, from the source-only
# model; UDA and the control for 1,000 steps, WDA and the oracle for 2,000 (WDA's sparse points keep
# it improving where UDA's own pseudo-labels stop helping: docs/benchmarks.md; WDA_STEPS=1000 reruns
# that comparison). UDA and WDA each run once per candidate share of the target's weight on its
# foreground pseudo-labels (0.25, 0.15; SHARES="0.5 0.25 0.15" adds the share that weighs foreground
# as much as background), and once per candidate density a detected point must reach in WDA (0.03,
# chosen over the authors' 125/255, 0.1 and 0.05; WDA_PEAKS="authors 0.1 0.05 0.03" reruns that
# comparison); each mode keeps its run with the best validation Dice (runs/uda and runs/wda link to
# them).
shares=(${SHARES:-0.25 0.15})
for share in "${shares[@]}"; do
  step "train uda with pseudo-foreground-share $share"
  train "uda-share-$share" uda "${ADAPT_STEPS:-1000}" 4 "$work/runs/source-only/model.pdas" 5e-4 \
    --set "train.pseudo-foreground-share=$share"
done
uda=$(choose "${shares[@]/#/uda-share-}") # an assignment, so that a failed validation stops the script
ln -sfn "$uda" "$work/runs/uda"
long_steps=${WDA_STEPS:-2000}
wda_runs=()
for share in "${shares[@]}"; do
  for peak in ${WDA_PEAKS:-0.03}; do
    name="wda-share-$share"
    peak_set=()
    if [ "$peak" != authors ]; then
      name="$name-peak-$peak"
      peak_set=(--set "train.peak-threshold=$peak")
    fi
    name="$name-steps-$long_steps"
    step "train $name"
    train "$name" wda "$long_steps" 4 "$work/runs/source-only/model.pdas" 5e-4 \
      --set "train.pseudo-foreground-share=$share" "${peak_set[@]}"
    wda_runs+=("$name")
  done
done
wda=$(choose "${wda_runs[@]}")
ln -sfn "$wda" "$work/runs/wda"
step "train oracle from the source-only model, as long as WDA"
train "oracle-steps-$long_steps" oracle "$long_steps" 4 "$work/runs/source-only/model.pdas" 5e-4
ln -sfn "oracle-steps-$long_steps" "$work/runs/oracle"
# the control: as many further steps on source crops alone as UDA's, so that what the adapted models
# gain from their extra training on source crops is not mistaken for adaptation
step "train source-only-continued from the source-only model (control)"
train source-only-continued source-only "${ADAPT_STEPS:-1000}" 4 "$work/runs/source-only/model.pdas" 5e-4 \
  --set train.ema-alpha=0.998

step "sweep: every model on lucchi/test, 0% and 15% testing prompts"
pd sweep "${conf[@]}"
# self-prompting runs the network twice per window and rotation: WDA and the oracle, the models whose
# density heads learnt to detect target mitochondria (docs/benchmarks.md)
step "sweep with self-prompting: WDA and the oracle on lucchi/test without testing prompts"
pd sweep "${conf[@]}" --set sweep.prompt-modes=[auto] --set sweep.prompt-fractions=[0] \
  --set "sweep.models=[\"wda=$work/runs/wda/model.pdas\", \"oracle=$work/runs/oracle/model.pdas\"]" \
  --set "sweep.out=\"$work/sweep-auto\""
step "the models against models/vnc-to-lucchi"
for m in source-only uda wda oracle; do
  echo "$m: $(sha256sum <"$work/runs/$m/model.pdas" | cut -c1-64) (this run), $(sed -n 's/^- SHA-256: //p' \
    "$root/models/vnc-to-lucchi/$m.md" 2>/dev/null) (models/vnc-to-lucchi)"
done
step "done: $work/sweep/report.html, $work/sweep-auto/report.html"

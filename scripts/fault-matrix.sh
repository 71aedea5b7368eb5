#!/usr/bin/env bash
# The fault matrix: hostile inputs, bad settings and faults (kill -9, concurrent writers, a full
# disk) run end to end through bin/prompt-das on generated data with the tiny network, one JVM at
# a time. Prints one line per case ("holds" or "FAILS: why") and "N of M hold". What each case
# promises: docs/faults.md. Takes a few minutes on 2 cores.
#
#   scripts/fault-matrix.sh              # work in a fresh temporary folder, deleted at the end
#   FAULTS_WORK=/tmp/f scripts/fault-matrix.sh   # keep the work folder for inspection
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${FAULTS_WORK:-$(mktemp -d)}
[ -n "${FAULTS_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
cd "$work" || exit 2
pd() { "$root/bin/prompt-das" "$@"; }
holds=0
total=0
failed=()

# case NAME EXPECTED_EXIT NEEDLE -- COMMAND...: runs COMMAND, checks the exit code, that standard
# error holds NEEDLE (when not empty) and, for a refusal, that it is one line (no stack trace)
case_run() {
  local name=$1 code=$2 needle=$3
  shift 4
  "$@" >"$work/out.log" 2>"$work/err.log"
  local got=$?
  local why=""
  [ "$got" -eq "$code" ] || why="exit $got, expected $code"
  if [ -z "$why" ] && [ -n "$needle" ] && ! grep -qF -- "$needle" "$work/err.log"; then
    why="stderr lacks '$needle'"
  fi
  if [ -z "$why" ] && [ "$code" -eq 2 ] && [ "$(grep -c 'prompt-das .*: error:' "$work/err.log")" -ne 1 ]; then
    why="not one error line"
  fi
  if [ -z "$why" ] && [ "$code" -eq 2 ] && grep -q $'^\tat ' "$work/err.log"; then
    why="a stack trace reached the user"
  fi
  verdict "$name" "$why"
}

# verdict NAME WHY: WHY empty means the case holds
verdict() {
  total=$((total + 1))
  if [ -z "$2" ]; then
    holds=$((holds + 1))
    printf '  holds  %s\n' "$1"
  else
    failed+=("$1")
    printf '  FAILS  %s: %s\n' "$1" "$2"
  fi
}

# check NAME COMMAND...: a post-condition (a test command) as a case of its own
check() {
  local name=$1
  shift
  if "$@" >/dev/null 2>&1; then verdict "$name" ""; else verdict "$name" "post-condition failed: $*"; fi
}

same() { cmp -s "$1" "$2"; }

# kill_when PATH COMMAND...: starts COMMAND and kills it with -9 (its JVM included) as soon as PATH
# exists, or lets it end if it finishes first
kill_when() {
  local path=$1
  shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null && [ ! -e "$path" ]; do sleep 0.2; done
  pkill -9 -P "$pid" 2>/dev/null
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

tiny_train() { # OUT [extra...]
  local out=$1
  shift
  pd train --master 'local[2]' --source crops/src --target crops/tgt --mode wda --out "$out" \
    --set train.network=tiny --set train.steps=8 --set train.local-steps=2 --set train.partitions=2 \
    --set train.batch=1 --set train.checkpoint-every=1 "$@"
}

echo "fault matrix in $work"
echo "setting up: generated slices, crops, points, a tiny model"
pd synth --out data --slices 3 --set synth.width=192 --set synth.height=192 >/dev/null 2>&1 || { echo "synth failed"; exit 1; }
pd points --labels data/target/lab --fraction 0.5 --out points >/dev/null 2>&1 || { echo "points failed"; exit 1; }
pd tile --images data/source/img --labels data/source/lab --out crops/src --crop 64 >/dev/null 2>&1 || { echo "tile failed"; exit 1; }
pd tile --images data/target/img --points points --out crops/tgt --crop 64 >/dev/null 2>&1 || { echo "tile failed"; exit 1; }
tiny_train model >/dev/null 2>&1 || { echo "train failed"; exit 1; }
pd export-model --checkpoint model/checkpoints/step-000000004.ckpt --out other.pdas >/dev/null 2>&1
infer() { pd infer --model model/model.pdas --stride 32 --set infer.rotations=false "$@"; }

echo "configuration"
case_run "an unknown key is refused with a suggestion" 2 "did you mean" -- \
  pd tile --images data/source/img --out x --set tile.crop-size=64
case_run "an invalid value is refused naming the key" 2 "prompt-das.tile.crop" -- \
  pd tile --images data/source/img --out x --set tile.crop=-3

echo "inputs"
case_run "a missing input folder is named" 2 "no such file or folder" -- pd tile --images nowhere --out x
mkdir -p bad/img && head -c 300 /dev/urandom >bad/img/noise.png
case_run "a file that is no image is named" 2 "noise.png" -- pd tile --images bad/img --out x --crop 64
mkdir -p empty/img && : >empty/img/zero.png
case_run "an empty file is named" 2 "zero.png: empty file" -- pd tile --images empty/img --out x --crop 64
mkdir -p unpaired/img unpaired/lab && cp data/source/img/*.png unpaired/img/ && cp data/source/lab/source_0000.png unpaired/lab/
case_run "a label missing its image partner is named" 2 "source_0001" -- \
  pd tile --images unpaired/img --labels unpaired/lab --out x --crop 64
mkdir -p forged && python3 - "$work/forged/huge.png" <<'EOF'
import struct, sys, zlib
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 46000, 46000, 16, 0, 0, 0, 0))
png += chunk(b"IDAT", bytes(200)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
EOF
case_run "a forged 46000x46000 header is refused before decoding" 2 "46000x46000" -- infer --images forged --out x
mkdir -p trunc && cp data/target/img/target_0000.png trunc/ && \
  head -c "$(( $(stat -c %s trunc/target_0000.png) / 2 ))" data/target/img/target_0001.png >trunc/target_0001.png
case_run "a truncated slice found inside a task is one line" 2 "target_0001.png" -- infer --images trunc --out trunc-pred
mkdir -p colour && python3 - "$work/colour/rgb.png" <<'EOF'
import struct, sys, zlib
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
w = h = 64
raw = b"".join(b"\x00" + bytes([x % 256, 0, 255 - x % 256] * w) for x in range(h))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
EOF
case_run "a colour image is refused naming it" 2 "rgb.png" -- infer --images colour --out colour-pred
awk -F, 'BEGIN { OFS = "," } { print $5, $4, $3, $2, $1 }' points/_points.csv >reordered.csv
infer --images data/target/img --points points/_points.csv --out prompted >/dev/null 2>&1
infer --images data/target/img --points reordered.csv --out prompted-reordered >/dev/null 2>&1
check "point tables are read by column name (y before x)" diff -r --exclude=stats.parquet --exclude=stats \
  prompted prompted-reordered
printf 'volume,slice,x\ntarget,0,5\n' >nox.csv
case_run "a point table without a y column is one line" 2 "lacks column y" -- \
  pd tile --images data/target/img --points nox.csv --out x --crop 64
case_run "the points stage's own CSV is a valid point table" 0 "" -- \
  pd tile --images data/target/img --points points/_points.csv --out own-csv --crop 64
python3 - "$work/nan.pdas" "$work/model/model.pdas" <<'EOF'
import json, struct, sys
src = open(sys.argv[2], "rb").read()
n = struct.unpack("<Q", src[:8])[0]
head = json.loads(src[8:8 + n])
name = next(k for k in head if k != "__metadata__")
start = 8 + n + head[name]["data_offsets"][0]
out = bytearray(src)
out[start:start + 4] = struct.pack("<f", float("nan"))
open(sys.argv[1], "wb").write(out)
EOF
case_run "a model with a NaN weight is refused naming the tensor" 2 "not finite" -- \
  pd infer --images data/target/img --model nan.pdas --out x
head -c 100 /dev/urandom >junk.pdas
case_run "a model file that is no model is named" 2 "junk.pdas" -- pd infer --images data/target/img --model junk.pdas --out x
check "refused runs wrote nothing" test ! -e x

echo "outputs and data loss"
mkdir -p d && cp -r data/target/img d/img
case_run "an output that contains an input is refused (--overwrite)" 2 "contains the input" -- infer --images d/img --out d --overwrite
case_run "an output inside an input is refused" 2 "lies inside the input" -- infer --images d/img --out d/img/pred
case_run "tile into its own input folder is refused" 2 "is the input" -- \
  pd tile --images d/img --out d/img --crop 64 --overwrite
check "the input slices are intact" diff -r data/target/img d/img
infer --images data/target/img --out pred >/dev/null 2>&1
cp -r pred pred.before
case_run "a second model into the same output is refused" 2 "another model" -- \
  pd infer --images data/target/img --model other.pdas --out pred --set infer.rotations=false --stride 32
mkdir -p mixed && cp data/target/img/*.png mixed/ && cp trunc/target_0001.png mixed/target_0001.png
case_run "a failing --overwrite run reports one line" 2 "target_0001.png" -- infer --images mixed --out pred --overwrite
check "the earlier predictions survive a failing --overwrite" diff -r pred.before pred
kill_when .pred.replacing/mask/target_0000.png infer --images data/target/img --out pred --overwrite \
  --set infer.threshold=0.4
check "the earlier predictions survive a killed --overwrite" diff -r pred.before pred
infer --images data/target/img --out pred --overwrite --set infer.threshold=0.4 >/dev/null 2>&1
check "a completed --overwrite replaces them" test -n "$(diff -rq pred.before pred)"
check "no temporary folders are left beside them" test -z "$(ls -A . | grep -E '^\.pred\.(tmp|replacing)')"

echo "resume and identity"
infer --images data/target/img --out ref >/dev/null 2>&1
kill_when killed/mask/target_0000.png infer --images data/target/img --out killed
infer --images data/target/img --out killed >/dev/null 2>&1
check "infer resumed after kill -9 equals an uninterrupted run" diff -r --exclude=stats.parquet --exclude=stats ref killed
mkdir -p changing && cp data/target/img/*.png changing/
infer --images changing --out changed >/dev/null 2>&1
cp changed/prob/target_0001.png before-change.png
cp data/source/img/source_0000.png changing/target_0001.png
infer --images changing --out changed >/dev/null 2>&1
check "a slice changed under the same name is recomputed" test -n "$(cmp before-change.png changed/prob/target_0001.png)"
case_run "a run with another output-changing setting is refused" 2 "other settings" -- \
  infer --images changing --out changed --set infer.density=true
tiny_train train-ref >/dev/null 2>&1
kill_when train-killed/checkpoints/step-000000004.ckpt tiny_train train-killed
tiny_train train-killed --resume >/dev/null 2>&1
check "train resumed after kill -9 ends with the same model" same train-ref/model.pdas train-killed/model.pdas
kill_when train-early/_train.json tiny_train train-early
tiny_train train-early --resume >/dev/null 2>&1
check "train killed before its first checkpoint resumes from step 0" same train-ref/model.pdas train-early/model.pdas
cp train-ref/model.pdas model-before.pdas
kill_when .train-ref.replacing/checkpoints/step-000000004.ckpt tiny_train train-ref --overwrite --set train.seed=9
check "a killed train --overwrite leaves the earlier model" same model-before.pdas train-ref/model.pdas
tiny_train four-a --set train.partitions=4 >/dev/null 2>&1
tiny_train four-b --set train.partitions=4 >/dev/null 2>&1
check "training with 4 workers is bit-reproducible" same four-a/model.pdas four-b/model.pdas
check "only the newest 3 checkpoints are kept" test "$(ls train-ref/checkpoints | wc -l)" -eq 3

echo "concurrency, names, disk"
(infer --images data/target/img --out race >/dev/null 2>race1.err; echo $? >race1.code) &
(infer --images data/target/img --out race --set infer.threshold=0.3 >/dev/null 2>race2.err; echo $? >race2.code) &
wait
check "two writers of one output: one is refused" test "$(cat race1.code race2.code | sort | tr -d '\n')" = "02"
mkdir -p 'odd#1/img' && cp data/target/img/target_0000.png 'odd#1/img/a:b.png'
case_run "a ':' in a file name and a '#' in a folder name work" 0 "" -- infer --images 'odd#1/img' --out 'odd#1/pred'
check "its prediction is there" test -f 'odd#1/pred/mask/a:b.png'
mkdir -p leftovers && cp -r pred "leftovers/.pred.tmp-999999@$(hostname)-0badc0de" && cp -r pred leftovers/pred
pd evaluate --pred pred/mask --gt data/target/lab --out leftovers/eval >/dev/null 2>&1
pd evaluate --pred pred/mask --gt data/target/lab --out leftovers/pred --overwrite >/dev/null 2>&1
check "a killed run's temporary folder is deleted by the next run" test ! -e "leftovers/.pred.tmp-999999@$(hostname)-0badc0de"
if [ "$(id -u)" -eq 0 ] && mkdir -p small && mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
  cp -r pred small/pred.before 2>/dev/null
  case_run "a full disk is one line naming the path" 2 "small" -- infer --images data/target/img --out small/full
  check "a full disk leaves no temporary files" test -z "$(ls -A small | grep -v pred.before)"
  umount small
else
  verdict "a full disk is one line naming the path" "not run: needs root to mount a small tmpfs"
fi

echo "evaluation"
case_run "probability maps are refused as predictions" 2 "probability map" -- \
  pd evaluate --pred pred/prob --gt data/target/lab --out e1
case_run "probability maps with a threshold are scored" 0 "" -- \
  pd evaluate --pred pred/prob --gt data/target/lab --out e2 --set evaluate.threshold=0.5
mkdir -p partial && cp pred/mask/target_0000.png partial/
case_run "a prediction missing for a ground-truth slice is named" 2 "target_0001" -- \
  pd evaluate --pred partial --gt data/target/lab --out e3

echo
echo "$holds of $total hold"
[ "$holds" -eq "$total" ]

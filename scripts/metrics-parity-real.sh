#!/usr/bin/env bash
# Metric parity on real EM masks: for every labelled data set in ../shared/data (read in place,
# never copied into the repository) builds "predictions" from the neighbouring slice's labels
# (slice i is predicted by the label of slice i+1: real shapes, many partial overlaps; a single
# slice is predicted by its mirror image), then scores them with `prompt-das evaluate` and with
# the reference metrics_ref.py and prints the largest difference per data set.
# Needs Debian's python3-numpy python3-opencv python3-pil.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${PROMPT_DAS_DATA:-$root/../shared/data}
ref=${METRICS_REF:-$root/../shared/reference/metrics_ref.py}
py=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-16s %6s %10s %10s %10s %12s\n' dataset slices dice aji pq max_abs_diff
for ds in vnc lucchi/train lucchi/test cdeep3m/train cdeep3m/test mitoem-h-crop; do
  gt="$data/$ds/lab"
  pred="$work/$ds/pred"
  "$py" - "$gt" "$pred" <<'PY'
import os, sys, numpy as np
from PIL import Image
gt, pred = sys.argv[1], sys.argv[2]
os.makedirs(pred, exist_ok=True)
names = sorted(n for n in os.listdir(gt) if not n.startswith('.'))
for i, n in enumerate(names):
    src = np.array(Image.open(os.path.join(gt, names[(i + 1) % len(names)])))
    if len(names) == 1:
        src = np.fliplr(src)
    Image.fromarray(((src > 0) * 255).astype(np.uint8)).save(os.path.join(pred, n))
PY
  "$root/bin/prompt-das" evaluate --pred "$pred" --gt "$gt" --out "$work/$ds/eval" >/dev/null 2>"$work/log" \
    || { cat "$work/log"; exit 1; }
  "$py" "$ref" "$pred" "$gt" > "$work/$ds/ref.jsonl"
  "$py" - "$work/$ds/eval/metrics.json" "$work/$ds/ref.jsonl" "$ds" <<'PY'
import json, math, sys
ours = json.load(open(sys.argv[1]))
ref = [json.loads(l) for l in open(sys.argv[2])]
rows = {r["slice"]: r for r in ref if "slice" in r}
diff = 0.0
for s in ours["slices"]:
    r = rows[s["slice"]]
    for k in ("dice", "aji", "pq", "dq", "sq"):
        a, b = s[k], r[k]
        if a is None or (isinstance(b, float) and math.isnan(b)):
            assert a is None and math.isnan(b), (s["slice"], k, a, b)
        else:
            diff = max(diff, abs(a - b))
mean = ref[-1]["mean"]
for k in ("dice", "aji", "pq", "dq", "sq"):
    diff = max(diff, abs(ours["mean"][k] - mean[k]))
print("%-16s %6d %10.6f %10.6f %10.6f %12.2e" % (sys.argv[3], len(ours["slices"]),
      ours["mean"]["dice"], ours["mean"]["aji"], ours["mean"]["pq"], diff))
if diff > 1e-9:
    sys.exit("parity broken on " + sys.argv[3])
PY
done

#!/usr/bin/env python3
"""Model cards for the VNC -> Lucchi models: what each was trained on, how, with which settings and
seed, its SHA-256 and its scores on the Lucchi test slices, read from a benchmark run's folder
(scripts/benchmark-vnc-lucchi.sh). Writes MODELS_DIR/NAME.md beside the NAME.pdas files.

    python3 scripts/model-cards.py bench-out/vnc-lucchi models/vnc-to-lucchi
"""
import csv
import hashlib
import json
import os
import sys

work, out = sys.argv[1], sys.argv[2]
MODES = {
    "source-only": "Source-only: VNC crops with their labels; no target data.",
    "uda": "UDA: from the source-only model; VNC crops with labels and unlabelled Lucchi train crops "
           "(the teacher's pseudo-labels and detections).",
    "wda": "WDA: from the source-only model; VNC crops with labels and Lucchi train crops with one point on "
           "15% of the instances (points stage, seed 1).",
    "oracle": "Oracle: from the source-only model; VNC and Lucchi train crops, both with their labels.",
}

# the training settings a card lists, in this order; the pseudo-label ones only for UDA and WDA, the
# modes whose teacher reads them
SETTINGS = ("mode", "steps", "batch", "learningRate", "warmupSteps", "weightDecay", "emaAlpha", "promptFreeShare",
            "balancedPseudoLabels", "pseudoForegroundShare", "strongTargetView", "strongSourceShare", "averagedModel",
            "peakThreshold", "seed")
PSEUDO_LABELS = {"balancedPseudoLabels", "pseudoForegroundShare", "strongTargetView", "peakThreshold"}


def rows(path):
    if not os.path.exists(path):
        return []
    return list(csv.DictReader(open(path)))


results = rows(os.path.join(work, "sweep", "results.csv")) + rows(os.path.join(work, "sweep-auto", "results.csv"))
auto_grid = os.path.join(work, "sweep-auto", "_sweep.json")
auto_peaks = json.load(open(auto_grid))["infer"]["peak-threshold"] if os.path.exists(auto_grid) else None
scored = json.load(open(os.path.join(work, "sweep", "_sweep.json")))["infer"]
windows = f"windows at stride {scored['stride']}" + (", 4 rotations averaged" if scored["rotations"] else
                                                     " without rotations")
for name, what in MODES.items():
    run = os.path.join(work, "runs", name)
    model = os.path.join(run, "model.pdas")
    if not os.path.exists(model):
        print(f"{name}: no model yet")
        continue
    asked = json.load(open(os.path.join(run, "_train.json")))
    t = asked["training"]
    history = [json.loads(l) for l in open(os.path.join(run, "history.jsonl"))]
    minutes = sum(r["seconds"] for r in history) / 60
    digest = hashlib.sha256(open(model, "rb").read()).hexdigest()
    init = "random (seed %d)" % t["seed"] if name == "source-only" else "models/vnc-to-lucchi/source-only.pdas"
    table = ["| testing prompts | Dice | AJI | PQ |", "|---|---|---|---|"]
    for r in results:
        if r["model"] == name:
            label = f"{100 * float(r['prompt_fraction']):.0f}%" + (
                f" + self-prompting (peaks >= {auto_peaks:.3g})" if r.get("prompts") == "auto" else "")
            table.append(f"| {label} | {100 * float(r['dice']):.1f} | {100 * float(r['aji']):.1f} | {100 * float(r['pq']):.1f} |")
    settings = {k: t[k] for k in SETTINGS if k in t and (t.get("mode") in ("UDA", "WDA") or k not in PSEUDO_LABELS)}
    card = f"""# {name}.pdas (VNC -> Lucchi, `cpu` network)

{what}

- Network: `cpu` preset ({asked['network']['imageSize']} px windows, a convolutional stem of width
  {asked['network']['stemWidth']} with skips, 2 transformer blocks of width {asked['network']['embedDim']}); 0.686M parameters.
- Data: `../shared/data` (see its README and licences): VNC, 20 ssTEM slices with labels (CC BY-NC-SA
  3.0); Lucchi train, 55 FIB-SEM slices; tiled into 192 px crops at stride 96, random 128 px windows
  per step. This file holds weights only, no data.
- Initialisation: {init}.
- Training: {len(history)} rounds of {asked['local_steps']} steps on {asked['partitions']} worker(s),
  {minutes:.0f} minutes of wall-clock time on the 2-core development machine (at times shared with
  other jobs). Settings: `{json.dumps(settings)}`.
- Command: `scripts/benchmark-vnc-lucchi.sh` (its `{os.path.basename(os.path.realpath(run))}` run; settings in
  `conf/vnc-to-lucchi.conf`).
- SHA-256: {digest}
- Scores on every 2nd Lucchi test slice (20), the paper's protocol (threshold 0.5, components of 15 px
  or fewer removed; {windows}):

{os.linesep.join(table)}

Use: `bin/prompt-das infer --model models/vnc-to-lucchi/{name}.pdas --images ../shared/data/lucchi/test/img --out pred`.
"""
    open(os.path.join(out, name + ".md"), "w").write(card)
    print(f"{name}: {digest[:16]}...")

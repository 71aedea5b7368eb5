#!/usr/bin/env bash
# Cross-checks this project's Zarr with zarr-python (Debian's python3-zarr 2.13), both ways:
#  - zarr-python writes arrays in every supported codec and byte order (scripts/zarr-fixtures.py);
#    they must equal (metadata and values) the committed fixtures that ZarrFixturesTest reads;
#  - infer writes OME-Zarr (infer.format=both) with every compressor of infer.zarr-compressor, and
#    zarr-python must read prob.zarr and mask.zarr to exactly infer's PNGs, with that compressor and
#    the multiscales metadata that napari and neuroglancer open.
#
#   scripts/zarr-crosscheck.sh [MODEL.pdas]      # default models/vnc-to-lucchi/source-only.pdas
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${1:-$root/models/vnc-to-lucchi/source-only.pdas}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c "import zarr, numcodecs, cv2" || { echo "zarr-crosscheck: needs python3-zarr and python3-opencv" >&2; exit 2; }
python3 "$root/scripts/zarr-fixtures.py" "$work/fixtures" >/dev/null
python3 - "$work/fixtures" "$root/pipeline-core/src/test/resources/zarr" <<'PY'
import json, os, sys
import numpy as np, zarr
fresh, committed = sys.argv[1], sys.argv[2]
def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
assert tree(fresh) == tree(committed), "the fixture files differ"
arrays = 0
for rel in tree(fresh):
    x, y = os.path.join(fresh, rel), os.path.join(committed, rel)
    name = os.path.basename(rel)
    if name in (".zarray", ".zattrs", ".zgroup"):
        assert json.load(open(x)) == json.load(open(y)), rel
    if name == ".zarray":  # chunks by value: gzip headers carry a time stamp
        assert np.array_equal(zarr.open(os.path.dirname(x), mode="r")[...], zarr.open(os.path.dirname(y), mode="r")[...]), rel
        arrays += 1
    elif rel.endswith(".raw"):
        assert open(x, "rb").read() == open(y, "rb").read(), rel
print(f"holds: zarr-python writes the committed fixtures again ({arrays} arrays: same metadata and values; ZarrFixturesTest reads them)")
PY
"$root/bin/prompt-das" synth --out "$work/data" --slices 3 --set synth.width=300 --set synth.height=260 \
  --set 'synth.domains=[target]' >/dev/null 2>&1
compressors=(blosc-lz4 blosc-zstd blosc-zlib zstd zlib gzip none)
for c in "${compressors[@]}"; do
  "$root/bin/prompt-das" infer --images "$work/data/target/img" --model "$model" --out "$work/pred-$c" \
    --set infer.format=both --set infer.zarr-chunk=128 --set infer.rotations=false \
    --set "infer.zarr-compressor=$c" >/dev/null 2>&1
done
python3 - "$work" "${compressors[@]}" <<'PY'
import glob, json, os, sys
import cv2, numpy as np, zarr
work, compressors = sys.argv[1], sys.argv[2:]
for c in compressors:
    pred = os.path.join(work, "pred-" + c)
    for image, folder, scale in (("prob.zarr", "prob", None), ("mask.zarr", "mask", 255)):
        g = zarr.open_group(os.path.join(pred, image), mode="r")
        ms = g.attrs["multiscales"][0]
        assert ms["version"] == "0.4" and [a["name"] for a in ms["axes"]] == ["z", "y", "x"], ms
        a = g[ms["datasets"][0]["path"]]
        codec = "none" if a.compressor is None else a.compressor.codec_id
        if codec == "blosc":
            codec += "-" + a.compressor.cname
        assert codec == c, (c, a.compressor)
        pngs = sorted(glob.glob(os.path.join(pred, folder, "*.png")))
        assert a.shape[0] == len(pngs), (a.shape, len(pngs))
        for z, f in enumerate(pngs):
            want = cv2.imread(f, cv2.IMREAD_UNCHANGED)
            if scale:
                want = np.where(want > 0, scale, 0)
            assert np.array_equal(a[z], want), f
        print(f"holds: zarr-python reads {c:10s} {image} {a.shape} {a.dtype} chunks {a.chunks} ({a.compressor}) equal to {folder}/*.png")
PY

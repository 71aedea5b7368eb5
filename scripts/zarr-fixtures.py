#!/usr/bin/env python3
"""Writes the Zarr fixtures of the Java tests with zarr-python (Debian's python3-zarr 2.13):
small (z, y, x) arrays in every codec and byte order the reader supports, with their expected
values as raw little-endian files (NAME.raw, C order), and a two-level OME-Zarr 0.4 image.
Deterministic.

    python3 scripts/zarr-fixtures.py pipeline-core/src/test/resources/zarr
"""
import json
import os
import shutil
import sys

import numpy as np
import zarr
from numcodecs import Blosc, GZip, Zlib, Zstd

out = sys.argv[1]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
rng = np.random.default_rng(7)
shape, chunks = (2, 20, 24), (1, 16, 16)
smooth = (np.add.outer(np.arange(20), np.arange(24))[None] * np.arange(1, 3)[:, None, None])
cases = {
    "u1-blosc-lz4-shuffle": ("u1", Blosc("lz4", 5, Blosc.SHUFFLE)),
    "u1-blosc-zstd-bitshuffle": ("u1", Blosc("zstd", 3, Blosc.BITSHUFFLE)),
    "u1-blosc-zlib-noshuffle": ("u1", Blosc("zlib", 4, Blosc.NOSHUFFLE)),
    "u2-blosc-lz4-shuffle": ("<u2", Blosc("lz4", 5, Blosc.SHUFFLE)),
    "u2-blosc-zstd-bitshuffle": ("<u2", Blosc("zstd", 3, Blosc.BITSHUFFLE)),
    "u2-blosc-lz4-memcpy": ("<u2", Blosc("lz4", 0, Blosc.SHUFFLE)),
    "f4-blosc-lz4-shuffle": ("<f4", Blosc("lz4", 5, Blosc.SHUFFLE)),
    "u2-zstd": ("<u2", Zstd(3)),
    "u2-gzip": ("<u2", GZip(5)),
    "u2-zlib": ("<u2", Zlib(5)),
    "u2-raw": ("<u2", None),
    "u2-big-endian-blosc-lz4": (">u2", Blosc("lz4", 5, Blosc.SHUFFLE)),
    "i2-big-endian-raw": (">i2", None),
    "f4-big-endian-gzip": (">f4", GZip(5)),
    "u4-blosc-lz4-shuffle": ("<u4", Blosc("lz4", 5, Blosc.SHUFFLE)),
}
for name, (dtype, comp) in cases.items():
    d = np.dtype(dtype)
    if d.kind == "f":
        v = (smooth / 7.0 + rng.random(shape)).astype(d)
    elif d.kind == "i":
        v = (smooth - 60 + rng.integers(0, 3, shape)).astype(d)
    else:
        top = min(np.iinfo(d).max, 70000)
        v = ((smooth * 37 + rng.integers(0, 5, shape)) % top).astype(d)
    z = zarr.open(os.path.join(out, name + ".zarr"), mode="w", shape=shape, chunks=chunks, dtype=d,
                  compressor=comp, fill_value=0)
    z[:] = v
    v.astype(v.dtype.newbyteorder("<")).tofile(os.path.join(out, name + ".raw"))
# missing chunks read as the fill value
z = zarr.open(os.path.join(out, "u1-fill.zarr"), mode="w", shape=shape, chunks=chunks, dtype="u1",
              compressor=Blosc("lz4", 5, Blosc.SHUFFLE), fill_value=9)
z[1, 16:20, 16:24] = 200
exp = np.full(shape, 9, "u1")
exp[1, 16:20, 16:24] = 200
exp.tofile(os.path.join(out, "u1-fill.raw"))
# an OME-Zarr 0.4 image with two levels
root = zarr.open_group(os.path.join(out, "ome.zarr"), mode="w")
full = (smooth % 251).astype("u1")
root.create_dataset("0", data=full, chunks=chunks, compressor=Blosc("zstd", 3, Blosc.SHUFFLE))
root.create_dataset("1", data=full[:, ::2, ::2], chunks=chunks, compressor=Blosc("lz4", 5, Blosc.SHUFFLE))
root.attrs["multiscales"] = [{
    "version": "0.4", "name": "fixture",
    "axes": [{"name": "z", "type": "space"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
    "datasets": [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]},
        {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [1, 2, 2]}]}]}]
full.tofile(os.path.join(out, "ome-0.raw"))
np.ascontiguousarray(full[:, ::2, ::2]).tofile(os.path.join(out, "ome-1.raw"))
# F order and an unknown codec are refused
zarr.open(os.path.join(out, "fortran.zarr"), mode="w", shape=shape, chunks=chunks, dtype="u1", order="F")[:] = 1
print(json.dumps(sorted(os.listdir(out))))

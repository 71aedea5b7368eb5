#!/usr/bin/env python3
"""PyTorch side of `bench-model --torch`: the project's CPU-size networks written in PyTorch from
this project's own network definition (model-dl4j's PromptDasGraph at the `small` and `cpu`
presets: the same sizes, prompt slots, heads and losses), timed the way bench-model times the Java
side: a training step (forward, backward, AdamW) on a mean-squared loss of all three heads, and a
forward pass, at a given batch, median of the timed runs after warm-up runs.

Prints one line per network and batch:
  torch <config> batch <b>: step <seconds> forward <seconds> threads <n>
Needs python3-torch (Debian's 1.13 here); bench-model runs it and prints the ratios.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # image, patch, width, depth, heads, mlp ratio, pos grid, decoder depth/heads/mlp, det channels/groups, stem
    "small": dict(image=128, d=96, depth=2, heads=3, ratio=4, pos=16, dec_depth=2, dec_heads=4, dec_mlp=256, det=32, groups=8, stem=0),
    "cpu": dict(image=128, d=96, depth=2, heads=3, ratio=4, pos=16, dec_depth=2, dec_heads=4, dec_mlp=256, det=32, groups=8, stem=16),
}


def gn_groups(c):
    g = 8
    while c % g:
        g //= 2
    return g


class Unit(nn.Module):  # 3x3 conv, group norm, ReLU (the stem's units and the skips' fusions)
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = nn.GroupNorm(gn_groups(cout), cout)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x)))


class Block(nn.Module):  # pre-norm ViT block, exact GELU
    def __init__(self, d, h, r):
        super().__init__()
        self.norm1, self.qkv, self.proj = nn.LayerNorm(d, eps=1e-6), nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.norm2, self.fc1, self.fc2 = nn.LayerNorm(d, eps=1e-6), nn.Linear(d, d * r), nn.Linear(d * r, d)
        self.h = h

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.h, c // self.h).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1)) * (c // self.h) ** -0.5
        x = x + self.proj((a.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Attention(nn.Module):  # SAM attention: q, k, v projected to d/2
    def __init__(self, d, h):
        super().__init__()
        a = d // 2
        self.q, self.k, self.v, self.out = nn.Linear(d, a), nn.Linear(d, a), nn.Linear(d, a), nn.Linear(a, d)
        self.h = h

    def forward(self, q, k, v, mask=None):
        q, k, v = self.q(q), self.k(k), self.v(v)
        b, nq, a = q.shape
        nk, hd = k.shape[1], a // self.h
        q = q.reshape(b, nq, self.h, hd).transpose(1, 2)
        k = k.reshape(b, nk, self.h, hd).transpose(1, 2)
        v = v.reshape(b, nk, self.h, hd).transpose(1, 2)
        s = q @ k.transpose(-2, -1) / math.sqrt(hd)
        if mask is not None:
            s = s + mask
        return self.out((s.softmax(-1) @ v).transpose(1, 2).reshape(b, nq, a))


class TwoWay(nn.Module):
    def __init__(self, d, h, mlp, first):
        super().__init__()
        self.self_attn, self.t2i, self.i2t = Attention(d, h), Attention(d, h), Attention(d, h)
        self.n1, self.n2, self.n3, self.n4 = (nn.LayerNorm(d) for _ in range(4))
        self.lin1, self.lin2, self.first = nn.Linear(d, mlp), nn.Linear(mlp, d), first

    def forward(self, qs, keys, qpe, kpe, smask, kmask):
        if self.first:
            qs = self.self_attn(qs, qs, qs, smask)
        else:
            q = qs + qpe
            qs = qs + self.self_attn(q, q, qs, smask)
        qs = self.n1(qs)
        qs = self.n2(qs + self.t2i(qs + qpe, keys + kpe, keys))
        qs = self.n3(qs + self.lin2(F.relu(self.lin1(qs))))
        keys = self.n4(keys + self.i2t(keys + kpe, qs + qpe, qs, kmask))
        return qs, keys


class LayerNorm2d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        x = (x - u) / torch.sqrt((x - u).pow(2).mean(1, keepdim=True) + 1e-6)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class PromptDas(nn.Module):
    def __init__(self, image, d, depth, heads, ratio, pos, dec_depth, dec_heads, dec_mlp, det, groups, stem):
        super().__init__()
        self.image, self.d, self.g, self.stem = image, d, image // 8, stem
        if stem:
            w = stem
            self.m1, self.s1 = nn.Conv2d(3, 2 * w, 2, 2), nn.Sequential(Unit(2 * w, 2 * w), Unit(2 * w, 2 * w))
            self.m2, self.s2 = nn.Conv2d(2 * w, 4 * w, 2, 2), nn.Sequential(Unit(4 * w, 4 * w), Unit(4 * w, 4 * w))
            self.m3 = nn.Conv2d(4 * w, d, 2, 2)
            self.skip0, self.fuse0 = nn.Conv2d(4 * w, d // 4, 1), Unit(d // 4, d // 4)
            self.skip1, self.fuse1 = nn.Conv2d(2 * w, d // 8, 1), Unit(d // 8, d // 8)
        else:
            self.embed = nn.Conv2d(3, d, 8, 8)
        self.pos = nn.Parameter(torch.zeros(1, pos * pos, d))
        self.blocks = nn.ModuleList(Block(d, heads, ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.register_buffer("gauss", torch.randn(2, d // 2))
        self.mask_token = nn.Parameter(torch.randn(1, d))
        self.layers = nn.ModuleList(TwoWay(d, dec_heads, dec_mlp, i == 0) for i in range(dec_depth))
        self.final, self.norm_final = Attention(d, dec_heads), nn.LayerNorm(d)
        self.up0, self.up_norm, self.up1 = nn.ConvTranspose2d(d, d // 4, 2, 2), LayerNorm2d(d // 4), nn.ConvTranspose2d(d // 4, d // 8, 2, 2)
        self.hyper = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d // 8))
        self.det1 = nn.Sequential(nn.Conv2d(d // 8, det, 3, padding=1), nn.GroupNorm(groups, det), nn.ReLU())
        self.det2 = nn.Sequential(nn.Conv2d(det, det, 3, padding=1), nn.GroupNorm(groups, det), nn.ReLU(), nn.Conv2d(det, 1, 1))
        self.contrast = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
        ys, xs = torch.meshgrid(torch.arange(self.g), torch.arange(self.g), indexing="ij")
        self.register_buffer("centres", torch.stack([(xs.flatten() + 0.5) / self.g, (ys.flatten() + 0.5) / self.g], 1))

    def fourier(self, u):
        p = (2 * u - 1) @ self.gauss * 2 * math.pi
        return torch.cat([p.sin(), p.cos()], -1)

    def forward(self, x, pts, valid):
        b = x.shape[0]
        if self.stem:
            half = self.s1(self.m1(x))
            quarter = self.s2(self.m2(half))
            t = self.m3(quarter)
        else:
            t = self.embed(x)
        t = t.flatten(2).transpose(1, 2) + self.pos
        for blk in self.blocks:
            t = blk(t)
        keys = self.norm(t)
        tok = torch.cat([self.mask_token.expand(b, 1, self.d), self.fourier((pts + 0.5) / self.image)], 1)
        seen = torch.cat([torch.ones(b, 1, dtype=torch.bool), torch.arange(pts.shape[1])[None] < valid[:, None]], 1)
        mask = torch.where(seen[:, None, None, :], 0.0, -1e9)
        kpe = self.fourier(self.centres)[None]
        qs = tok
        for layer in self.layers:
            qs, keys = layer(qs, keys, tok, kpe, mask, mask)
        qs = self.norm_final(qs + self.final(qs + tok, keys + kpe, keys))
        u = self.up0(keys.transpose(1, 2).reshape(b, self.d, self.g, self.g))
        if self.stem:
            u = u + self.skip0(quarter)
        u = F.gelu(self.up_norm(u))
        if self.stem:
            u = self.fuse0(u)
        u = self.up1(u)
        if self.stem:
            u = u + self.skip1(half)
        u = F.gelu(u)
        if self.stem:
            u = self.fuse1(u)
        logits = (self.hyper(qs[:, 0])[:, None, :] @ u.flatten(2)).reshape(b, u.shape[2], u.shape[3])
        det = self.det2(F.interpolate(self.det1(u), scale_factor=2, mode="bilinear", align_corners=False))
        return logits, det, self.contrast(qs)


def median_time(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="small,cpu")
    ap.add_argument("--batches", default="8")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    ap.add_argument("--prompts", type=int, default=5)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    for name in a.configs.split(","):
        cfg = PRESETS[name]
        for b in map(int, a.batches.split(",")):
            net = PromptDas(**cfg)
            opt = torch.optim.AdamW(net.parameters(), lr=1e-5)
            s, m = cfg["image"], cfg["image"] // 2
            x = torch.randn(b, 3, s, s)
            pts = torch.rand(b, 8, 2) * (s - 1)
            valid = torch.full((b,), a.prompts)
            seg_t, det_t = torch.rand(b, m, m), torch.rand(b, 1, s, s)

            def step():
                logits, det, z = net(x, pts, valid)
                loss = (logits - seg_t).pow(2).mean() + (det - det_t).pow(2).mean() + z.pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()

            def forward():
                with torch.no_grad():
                    net(x, pts, valid)

            st = median_time(step, a.warmup, a.reps)
            fw = median_time(forward, a.warmup, a.reps)
            print(f"torch {name} batch {b}: step {st:.4f} forward {fw:.4f} threads {torch.get_num_threads()}", flush=True)


if __name__ == "__main__":
    main()

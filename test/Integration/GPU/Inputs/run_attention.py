"""Runs a CUDA attention library on the GPU against the float64 reference.

usage: run_attention.py LIB D DV  (the library: gated causal f16 attention,
8 query heads over 2 KV heads, head dims D / DV). Prints one line per shape;
awkward sizes, both kernels' regimes (full blocks, partial blocks, decode
with split KV). Outputs start as NaN, so unwritten elements fail.
"""
import sys

import numpy as np

import gatec
from gatec import cuda, reference

lib, D, DV = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = gatec.load(lib)
rng = np.random.default_rng(0)
worst = 0.0
# (batch, queries, keys); causal is upper-left: query i sees keys 0..i.
for b, sq, skv in [(1, 1, 1), (2, 63, 63), (1, 65, 65), (3, 130, 130), (1, 257, 257),
                   (1, 1100, 1100), (2, 40, 1100)]:
    q = rng.standard_normal((b, 8, sq, D)).astype(np.float16)
    k = rng.standard_normal((b, 2, skv, D)).astype(np.float16)
    v = rng.standard_normal((b, 2, skv, DV)).astype(np.float16)
    g = rng.standard_normal((b, 8, sq, DV)).astype(np.float16)
    out = cuda.to_device(np.full((b, 8, sq, DV), np.nan, np.float16))
    m(*(cuda.to_device(a) for a in (q, k, v, g)), out=[out])
    got = out.numpy().astype(np.float64)
    want = reference.sdpa(q, k, v, gate=g, causal=True)
    err = np.max(np.abs(got - want)) / np.max(np.abs(want)) if np.all(np.isfinite(got)) else np.inf
    worst = max(worst, err)
    print(f"B={b} Sq={sq} Skv={skv} rel err {err:.1e}")
print("OK" if worst < 1e-2 else "FAIL")

"""A Gateformer block, written in PyTorch after the paper (Lan et al., "Gateformer:
Advancing Multivariate Time Series Forecasting through Temporal and
Variate-Wise Attention with Gated Representations", 2025): every variate's
series is embedded on its own (the temporal representation), non-causal
attention runs across the variates (the variate-wise representation), and
sigmoid gates computed from the embedding decide how much of each
representation flows on:

    e = Embed(x)                      x [B, variates, lookback] -> [B, N, d]
    a = Attention(e)                  non-causal, across the N variates
    h = σ(e Wₑ) ⊙ e + σ(e Wₐ) ⊙ a     the gated combination
    y = Head(LayerNorm(h))            [B, N, horizon]

gatec raises the attention to one non-causal `gate.sdpa` and applies each gate
in the epilogue of the matmul that computes it (`gate-matmul-cpu`): the gated
values are themselves matmul outputs read only there, so no separate gate loop
remains.

    .venv-bench/bin/python examples/gateformer.py [--out DIR]

writes gateformer.onnx and gateformer.npz (inputs and PyTorch's outputs) — the
committed test model test/models/gateformer/ is made this way — then, when
gatec is built, compiles the file, prints the fused ops and checks it against
PyTorch.
"""
from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gatec.torch as gtorch  # noqa: E402
from example_check import run_block_example  # noqa: E402

LOOKBACK, HORIZON = 96, 24
VARIATES = (1, 7, 21, 130)  # the npz holds x_N / y_N for these numbers of variates


class GateformerBlock(nn.Module):
    def __init__(self, lookback=LOOKBACK, horizon=HORIZON, dim=64, heads=4):
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.embed = nn.Sequential(nn.Linear(lookback, dim), nn.GELU(), nn.Linear(dim, dim))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.gate_e = nn.Linear(dim, dim)
        self.gate_a = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, horizon)

    def forward(self, x):  # x [B, variates, lookback]
        b, n, _ = x.shape
        e = self.embed(x)
        q, k, v = self.qkv(e).view(b, n, 3, self.h, self.d).permute(2, 0, 3, 1, 4)
        a = self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, -1))
        h = torch.sigmoid(self.gate_e(e)) * e + torch.sigmoid(self.gate_a(e)) * a
        return self.head(self.norm(h))


def main():
    run_block_example(__doc__, "gateformer", GateformerBlock,
                      lambda n: torch.randn(2, n, LOOKBACK), VARIATES, label="variates",
                      axes=("B", "N"))


if __name__ == "__main__":
    main()

"""SambaY's Gated Memory Unit, written in PyTorch after the paper (Ren et al.,
"Decoder-Hybrid-Decoder Architecture for Efficient Reasoning with Long
Generation", 2025, §2): the cross-decoder reuses a memory m, the readout of the
self-decoder's last state-space layer, through GMUs,

    y = (m ⊙ SiLU(x W1)) W2

instead of attending again. The block here is the last self-decoder layer — a
Mamba-2-style recurrence (scalar decay per head; `gatec.torch.linear_attention`
with the gated rule), its out-projection and residual — followed by one GMU
layer (RMSNorm, the gate projection W1, the memory gate, W2, residual).

The memory is read twice (by its own layer's out-projection and by the GMU),
so the gate cannot become the recurrence's output gate; gatec instead applies
it in the epilogue of the matmul that computes SiLU(x W1): each output tile is
multiplied by the memory as it is stored (`gate-matmul-cpu`).

    .venv-bench/bin/python examples/sambay_gmu.py [--out DIR]

writes gmu.onnx and gmu.npz (inputs and PyTorch's outputs) — the committed test
model test/models/sambay/ is made this way — then, when gatec is built,
compiles the file, prints the fused ops and checks it against PyTorch.
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

LENGTHS = (1, 37, 77, 130)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim) + 0.1 * torch.randn(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class SambaYBlock(nn.Module):
    def __init__(self, dim=64, heads=4, head_k=16, head_v=32, inner=96):
        super().__init__()
        self.h, self.dk, self.dv = heads, head_k, head_v
        mem = heads * head_v
        # self-decoder's last SSM layer (Mamba-2 style: scalar decay per head)
        self.norm1 = RMSNorm(dim)
        self.in_qk = nn.Linear(dim, 2 * heads * head_k, bias=False)
        self.in_v = nn.Linear(dim, mem, bias=False)
        self.dt = nn.Linear(dim, heads)
        self.out = nn.Linear(mem, dim, bias=False)
        # cross-decoder GMU layer
        self.norm2 = RMSNorm(dim)
        self.w1 = nn.Linear(dim, mem, bias=False)
        self.w2 = nn.Linear(mem, dim, bias=False)

    def forward(self, x):  # x [B, T, dim]
        b, t, _ = x.shape
        u = self.norm1(x)
        q, k = self.in_qk(u).view(b, t, 2, self.h, self.dk).unbind(2)
        v = self.in_v(u).view(b, t, self.h, self.dv)
        decay = -F.softplus(self.dt(u))  # log of a per-head decay in (0, 1)
        m, _ = gtorch.linear_attention(q * self.dk ** -0.5, F.normalize(k, dim=-1), v, "gated",
                                       decay=decay)
        m = m.reshape(b, t, self.h * self.dv)  # the memory readout
        h = x + self.out(m)
        gmu = m * F.silu(self.w1(self.norm2(h)))  # Gated Memory Unit
        return h + self.w2(gmu)


def main():
    run_block_example(__doc__, "gmu", SambaYBlock, lambda t: torch.randn(2, t, 64), LENGTHS)


if __name__ == "__main__":
    main()

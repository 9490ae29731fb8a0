"""ViG's bidirectional gated linear attention block (BiGLA), written in PyTorch from
the paper (Liao et al., "ViG: Linear-complexity Visual Sequence Learning with Gated
Linear Attention", 2024, §3.2): one set of q/k/v projections shared by a forward
and a backward GLA scan over the token sequence, a forget gate per direction
(GLA's low-rank gate, logsigmoid(·)/16), the two directions summed, an output
gate SiLU(x W_r) and an output projection.

The backward scan is the natural PyTorch spelling: flip the sequence, scan, flip
back. gatec.torch.export writes each scan as one ONNX LinearAttention-27 node and
the flips as Slice(step -1); gatec's importer then runs the backward scan as
`gate.linear_attention {reverse}` on the unflipped tensors, so the compiled block
is two fused recurrences and an add, with no copies of the sequence.

    .venv-bench/bin/python examples/vig_bidirectional_gla.py [--out DIR]

writes bigla.onnx and bigla.npz (inputs, PyTorch's outputs) — the committed test
model test/models/vig/ is made this way — then, when gatec is built, compiles the
file, prints the fused ops and checks the library against PyTorch.
"""
from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gatec.torch as gtorch  # noqa: E402
from example_check import run_block_example  # noqa: E402

LENGTHS = (1, 37, 77, 130)


class BiGLA(nn.Module):
    def __init__(self, dim=64, heads=2, dk=16, dv=32, gate_rank=16):
        super().__init__()
        self.h, self.dk, self.dv = heads, dk, dv
        self.q = nn.Linear(dim, heads * dk, bias=False)
        self.k = nn.Linear(dim, heads * dk, bias=False)
        self.v = nn.Linear(dim, heads * dv, bias=False)
        # one forget gate per direction: low rank, as in GLA
        self.gate_fwd = nn.Sequential(nn.Linear(dim, gate_rank, bias=False),
                                      nn.Linear(gate_rank, heads * dk))
        self.gate_bwd = nn.Sequential(nn.Linear(dim, gate_rank, bias=False),
                                      nn.Linear(gate_rank, heads * dk))
        self.r = nn.Linear(dim, heads * dv)
        self.o = nn.Linear(heads * dv, dim, bias=False)

    def forward(self, x):  # x [B, T, dim]
        b, t, _ = x.shape
        q = self.q(x).view(b, t, self.h, self.dk)
        k = self.k(x).view(b, t, self.h, self.dk)
        v = self.v(x).view(b, t, self.h, self.dv)
        gf = (F.logsigmoid(self.gate_fwd(x)) / 16).view(b, t, self.h, self.dk)
        gb = (F.logsigmoid(self.gate_bwd(x)) / 16).view(b, t, self.h, self.dk)
        fwd, _ = gtorch.linear_attention(q, k, v, "gated", decay=gf)
        bwd, _ = gtorch.linear_attention(q.flip(1), k.flip(1), v.flip(1), "gated",
                                         decay=gb.flip(1))
        o = (fwd + bwd.flip(1)).reshape(b, t, self.h * self.dv)
        return self.o(o * F.silu(self.r(x)))


def main():
    run_block_example(__doc__, "bigla", BiGLA, lambda t: torch.randn(2, t, 64), LENGTHS)


if __name__ == "__main__":
    main()

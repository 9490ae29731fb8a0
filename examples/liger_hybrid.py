"""A Liger-style hybrid attention layer, written in PyTorch after the paper (Lan et
al., "Liger: Linearizing Large Language Models to Gated Recurrent Structures",
2025, §3): one set of q/k/v projections feeds two branches over the same
tokens, mixed half and half:

- gated recurrent modeling: gated linear attention (GLA) whose forget gate is
  derived from the key projection itself (Liger adds no gate parameters:
  here logsigmoid of the head-wise mean of the keys, per key channel, /16);
- sliding-window softmax attention (SWA): causal, each query sees the last
  W = 16 tokens, written the way PyTorch code writes it, a boolean band mask
  built from `torch.arange` passed to `scaled_dot_product_attention`;

then an output projection. gatec.torch.export writes the recurrence as one
ONNX LinearAttention-27 node and the attention as Attention-24 with the mask;
gatec proves the mask is the band i-W < j <= i (symbolically, at every length)
and runs `gate.sdpa` with `window = [W-1, 0]`, whose kernels visit only the
key blocks inside it. The compiled layer is two fused ops and an add.

    .venv-bench/bin/python examples/liger_hybrid.py [--out DIR]

writes liger.onnx and liger.npz (inputs and PyTorch's outputs) — the
committed test model test/models/liger/ is made this way — then, when gatec is
built, compiles the file, prints the fused ops and checks it against PyTorch.
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

LENGTHS = (1, 16, 37, 130)


class LigerHybrid(nn.Module):
    def __init__(self, dim=64, heads=4, head_dim=16, window=16):
        super().__init__()
        self.h, self.d, self.window = heads, head_dim, window
        self.q = nn.Linear(dim, heads * head_dim, bias=False)
        self.k = nn.Linear(dim, heads * head_dim, bias=False)
        self.v = nn.Linear(dim, heads * head_dim, bias=False)
        self.o = nn.Linear(heads * head_dim, dim, bias=False)

    def forward(self, x):  # x [B, T, dim]
        b, t, _ = x.shape
        q = self.q(x).view(b, t, self.h, self.d)
        k = self.k(x).view(b, t, self.h, self.d)
        v = self.v(x).view(b, t, self.h, self.d)
        # GLA branch: the forget gate from the keys (no new parameters).
        gate = F.logsigmoid(k - k.mean(dim=-1, keepdim=True)) / 16
        gla, _ = gtorch.linear_attention(q * self.d ** -0.5, k, v, "gated", decay=gate)
        # SWA branch: causal band of `window` tokens.
        i = torch.arange(t, device=x.device)
        band = (i[None, :] <= i[:, None]) & (i[None, :] > i[:, None] - self.window)
        swa = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                             v.transpose(1, 2), attn_mask=band)
        o = 0.5 * gla + 0.5 * swa.transpose(1, 2)
        return self.o(o.reshape(b, t, self.h * self.d))


def main():
    run_block_example(__doc__, "liger", LigerHybrid, lambda t: torch.randn(2, t, 64), LENGTHS)


if __name__ == "__main__":
    main()

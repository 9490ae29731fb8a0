"""A Mistral-style attention layer, written in PyTorch after the paper (Jiang et
al., "Mistral 7B", 2023, §2): grouped-query attention (8 query heads share 2
key/value heads, K/V repeated per group the way reference code does it),
rotary position embeddings, and sliding-window attention — the query at
position i attends to the keys i-W < j <= i — with the attention written out
(scores, a band mask built from `torch.arange`, masked_fill, softmax, P·V)
rather than through a fused SDPA call.

torch's dynamo exporter writes it as MatMul/Softmax/Where and Expand/Reshape
nodes; gatec raises the attention to one `gate.sdpa` with the GQA head
mapping and `window = [W-1, 0]` (the band proved symbolically, at every
length), whose kernels visit only the key blocks inside the window.

    .venv-bench/bin/python examples/mistral_swa.py [--out DIR]

writes mistral_swa_w{1,7,64,4096}.onnx (windows narrower than, and one at least
as long as, every sequence) with .npz files of inputs and PyTorch's outputs —
the committed test models test/models/mistral/ are made this way — then, when
gatec is built, compiles each file, prints the fused ops and checks it
against PyTorch. The tests also check it against a float64 numpy forward of
the same layer (python/tests/test_architecture_examples.py).
"""
from __future__ import annotations

import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from example_check import export_block, run_example  # noqa: E402

LENGTHS = (1, 37, 65, 130)
WINDOWS = (1, 7, 64, 4096)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class MistralAttention(nn.Module):
    def __init__(self, dim=32, heads=8, kv_heads=2, head_dim=8, window=7, theta=10000.0):
        super().__init__()
        self.h, self.kvh, self.d, self.window = heads, kv_heads, head_dim, window
        self.q = nn.Linear(dim, heads * head_dim, bias=False)
        self.k = nn.Linear(dim, kv_heads * head_dim, bias=False)
        self.v = nn.Linear(dim, kv_heads * head_dim, bias=False)
        self.o = nn.Linear(heads * head_dim, dim, bias=False)
        inv = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, x):  # x [B, T, dim]
        b, t, _ = x.shape
        q = self.q(x).view(b, t, self.h, self.d).transpose(1, 2)
        k = self.k(x).view(b, t, self.kvh, self.d).transpose(1, 2)
        v = self.v(x).view(b, t, self.kvh, self.d).transpose(1, 2)
        # Rotary embeddings of positions 0 .. t-1.
        pos = torch.arange(t, device=x.device, dtype=self.inv_freq.dtype)
        ang = torch.outer(pos, self.inv_freq)
        cos, sin = torch.cat((ang, ang), -1).cos(), torch.cat((ang, ang), -1).sin()
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # Each K/V head serves h / kvh query heads.
        rep = self.h // self.kvh
        k = k[:, :, None].expand(b, self.kvh, rep, t, self.d).reshape(b, self.h, t, self.d)
        v = v[:, :, None].expand(b, self.kvh, rep, t, self.d).reshape(b, self.h, t, self.d)
        # Sliding-window causal attention.
        i = torch.arange(t, device=x.device)
        allowed = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < self.window)
        scores = (q @ k.transpose(-1, -2)) * self.d ** -0.5
        p = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        o = (p @ v).transpose(1, 2).reshape(b, t, self.h * self.d)
        return self.o(o)


def export(out_dir, seed=0):
    paths = []
    for w in WINDOWS:
        torch.manual_seed(seed + w)
        paths.append(export_block(MistralAttention(window=w),
                                  os.path.join(out_dir, f"mistral_swa_w{w}.onnx"),
                                  lambda t: torch.randn(2, t, 32), LENGTHS, gatec_export=False))
    return paths


def main():
    run_example(__doc__, "mistral", export, LENGTHS)


if __name__ == "__main__":
    main()

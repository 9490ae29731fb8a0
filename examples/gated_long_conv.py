"""Gated long convolutions, written in PyTorch from their papers, exported by
torch 2's dynamo exporter and compiled by gatec:

- GAM's gated causal convolution block (the token mixer of gated convolutional
  models): x -> in-projection -> (u, g); a depthwise causal convolution of u
  whose filter is as long as the context, then u' ⊙ σ(g), then an
  out-projection;
- Zoology's BaseConv / Hyena-style long filter (Arora et al., "Zoology", 2023,
  §4; Poli et al., "Hyena Hierarchy", 2023): y = (u ⊙ proj(x)) * h, a
  multiplicative gate on the input of an implicit long convolution h, plus a
  residual skip D·u.

- Hyena's operator (order 2) with its long convolution through torch.fft, as
  the reference implementation computes it: y = q ⊙ (irfft(rfft(k ⊙ v, 2T) ·
  rfft(h[:, :T], 2T))[..., :T] + D·(k ⊙ v)).

GAM and BaseConv write the convolution the usual PyTorch way, `nn.Conv1d(d,
d, K, groups=d, padding=K-1)` and a slice of the first T outputs, which the
dynamo exporter writes as an ONNX Conv (pads K-1 on both sides) and a Slice.
gatec imports the depthwise, left-padded Conv as `gate.causal_conv` (the same
sums), drops the outputs the Slice discards, and runs the long-filter CPU
kernel. Hyena's FFT product (ONNX DFTs, a complex product written with
Slice/Mul/Sub/Add/Concat, an inverse one-sided DFT) is recognized on the ONNX
graph and becomes the same `gate.causal_conv` with the filter h as its taps.

    .venv-bench/bin/python examples/gated_long_conv.py [--out DIR]

writes gam.onnx / baseconv.onnx / hyena_fft.onnx with .npz files of inputs and PyTorch's outputs
(the committed test models test/models/longconv/ are made this way), then, when
gatec is built, compiles each file, prints the fused ops and checks the library
against PyTorch.
"""
from __future__ import annotations

import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from example_check import export_block, run_example  # noqa: E402

LENGTHS = (1, 37, 77, 130)


class CausalLongConv(nn.Module):
    """Depthwise causal convolution with a filter of `kernel` taps."""

    def __init__(self, dim, kernel):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, groups=dim, padding=kernel - 1)

    def forward(self, u):  # u [B, T, dim]
        t = u.shape[1]
        return self.conv(u.transpose(1, 2))[..., :t].transpose(1, 2)


class GAMBlock(nn.Module):
    def __init__(self, dim=48, inner=64, kernel=96):
        super().__init__()
        self.inp = nn.Linear(dim, 2 * inner)
        self.conv = CausalLongConv(inner, kernel)
        self.out = nn.Linear(inner, dim)

    def forward(self, x):
        u, g = self.inp(x).chunk(2, dim=-1)
        return self.out(self.conv(u) * torch.sigmoid(g))


class BaseConvBlock(nn.Module):
    def __init__(self, dim=48, kernel=160):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.conv = CausalLongConv(dim, kernel)
        self.skip = nn.Parameter(torch.randn(dim))
        self.out = nn.Linear(dim, dim)

    def forward(self, u):
        y = self.conv(u * self.proj(u)) + u * self.skip
        return self.out(y)


class HyenaFFTBlock(nn.Module):
    def __init__(self, dim=48, max_len=160):
        super().__init__()
        self.inp = nn.Linear(dim, 3 * dim)
        self.filter = nn.Parameter(torch.randn(dim, max_len) / max_len)
        self.skip = nn.Parameter(torch.randn(dim))
        self.out = nn.Linear(dim, dim)

    def forward(self, x):  # x [B, T, dim]
        q, k, v = self.inp(x).chunk(3, dim=-1)
        u = (k * v).transpose(1, 2)  # [B, dim, T]
        t = u.shape[-1]
        n = 2 * t  # no wrap-around: the circular convolution of length 2T is causal
        y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.filter[:, :t], n=n),
                            n=n)[..., :t]
        y = y + u * self.skip[:, None]
        return self.out(q * y.transpose(1, 2))


def export(out_dir, seed=0):
    torch.manual_seed(seed)
    paths = [export_block(block, os.path.join(out_dir, f"{name}.onnx"),
                          lambda t: torch.randn(2, t, 48), LENGTHS, gatec_export=False)
             for name, block in (("gam", GAMBlock()), ("baseconv", BaseConvBlock()))]
    paths.append(export_block(HyenaFFTBlock(), os.path.join(out_dir, "hyena_fft.onnx"),
                              lambda t: torch.randn(2, t, 48), LENGTHS, gatec_export=False,
                              max_len=160))
    return paths

def main():
    run_example(__doc__, "longconv", export, LENGTHS)


if __name__ == "__main__":
    main()

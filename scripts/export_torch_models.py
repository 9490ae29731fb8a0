#!/usr/bin/env python3
"""Exports the small PyTorch models that python/tests/test_torch_exports.py
compiles, with PyTorch's own outputs beside them (test/models/torch/).

Needs PyTorch (the bench venv: `make bench` creates .venv-bench); `make test`
only reads the committed files:

    .venv-bench/bin/python scripts/export_torch_models.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "test", "models", "torch")


class CausalSdpa(torch.nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


class MaskedSdpa(torch.nn.Module):
    """An additive float mask (a sliding window of 5 keys): must stay a mask."""

    def forward(self, q, k, v, mask):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def window_mask(s, w):
    i = np.arange(s)[:, None]
    j = np.arange(s)[None, :]
    keep = (j <= i) & (j > i - w)
    return np.where(keep, 0.0, -np.inf).astype(np.float32)[None, None]


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    s = 37
    q, k, v = (torch.randn(1, 4, s, 8) for _ in range(3))
    for opset in (17, 18):
        name = f"sdpa_causal_opset{opset}"
        torch.onnx.export(CausalSdpa(), (q, k, v), os.path.join(OUT, name + ".onnx"),
                          opset_version=opset, dynamo=False, input_names=["q", "k", "v"],
                          output_names=["o"],
                          dynamic_axes={n: {2: "s"} for n in ("q", "k", "v", "o")})
        with torch.inference_mode():
            o = CausalSdpa()(q, k, v)
        np.savez(os.path.join(OUT, name + ".npz"), q=q.numpy(), k=k.numpy(), v=v.numpy(),
                 o=o.numpy())
    mask = torch.from_numpy(window_mask(s, 5))
    name = "sdpa_window_mask_opset18"
    torch.onnx.export(MaskedSdpa(), (q, k, v, mask), os.path.join(OUT, name + ".onnx"),
                      opset_version=18, dynamo=False, input_names=["q", "k", "v", "mask"],
                      output_names=["o"])
    with torch.inference_mode():
        o = MaskedSdpa()(q, k, v, mask)
    np.savez(os.path.join(OUT, name + ".npz"), q=q.numpy(), k=k.numpy(), v=v.numpy(),
             mask=mask.numpy(), o=o.numpy())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

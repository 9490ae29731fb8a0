#!/usr/bin/env python3
"""Exports transformers' chunked gated delta rule (torch_chunk_gated_delta_rule,
what Qwen3-Next's Gated DeltaNet layers run on a CPU) on its own with torch 2's
dynamo exporter at opset 18, as the whole-model exports write it, and stores
the inputs and PyTorch's outputs beside each file (test/models/delta_rule/).
python/tests/test_raise_delta_rule.py checks that gatec imports each as one
gate.linear_attention and matches PyTorch, and that changed copies are not
raised.

Needs torch and transformers (the bench venv); `make test` only reads the
committed files:

    .venv-bench/bin/python scripts/export_delta_rule.py
"""
import os
import warnings

import numpy as np
import onnx
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "test", "models",
                   "delta_rule")


class ChunkRule(torch.nn.Module):
    def __init__(self, state, l2norm):
        super().__init__()
        self.state, self.l2norm = state, l2norm

    def forward(self, q, k, v, g, beta, *state):
        from transformers.models.qwen3_next.modeling_qwen3_next import \
            torch_chunk_gated_delta_rule

        out, final = torch_chunk_gated_delta_rule(
            q, k, v, g=g, beta=beta, initial_state=state[0] if state else None,
            output_final_state=self.state, use_qk_l2norm_in_kernel=self.l2norm)
        return (out, final) if self.state else out


# name: (B, T, H, dk, dv, initial/final state, l2norm inside)
CASES = {
    "t130": (2, 130, 2, 16, 12, False, True),   # 3 chunks, 62 tokens of padding
    "t128_state": (1, 128, 3, 8, 16, True, False),  # 2 whole chunks, initial and final state
    "t20": (1, 20, 2, 16, 16, False, True),     # one chunk, mostly padding
}


def export(name):
    b, t, h, dk, dv, state, l2norm = CASES[name]
    torch.manual_seed(0)
    q = torch.randn(b, t, h, dk)
    k = torch.randn(b, t, h, dk) / dk ** 0.5
    v = torch.randn(b, t, h, dv)
    g = -torch.rand(b, t, h) * 0.5
    beta = torch.rand(b, t, h)
    args = (q, k, v, g, beta) + ((torch.randn(b, h, dk, dv) * 0.1,) if state else ())
    names = ["q", "k", "v", "g", "beta"] + (["state"] if state else [])
    outs = ["out"] + (["final_state"] if state else [])
    path = os.path.join(OUT, f"{name}.onnx")
    model = ChunkRule(state, l2norm).eval()
    torch.onnx.export(model, args, path, opset_version=18, dynamo=True, external_data=False,
                      input_names=names, output_names=outs)
    m = onnx.load(path)
    for n in m.graph.node:
        del n.metadata_props[:]
        n.doc_string = ""
    del m.graph.value_info[:]
    del m.metadata_props[:]
    onnx.save(m, path)
    with torch.inference_mode():
        res = model(*args)
    res = res if isinstance(res, tuple) else (res,)
    data = {n: a.numpy() for n, a in zip(names, args)}
    data.update({n: r.numpy() for n, r in zip(outs, res)})
    np.savez_compressed(path.replace(".onnx", ".npz"), **data)
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    warnings.filterwarnings("ignore")
    os.makedirs(OUT, exist_ok=True)
    for name in CASES:
        export(name)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Exports transformers' gated delta rule on its own with torch 2's dynamo
exporter at opset 18, as the whole-model exports write it, and stores the
inputs and PyTorch's outputs beside each file (test/models/delta_rule/): the
chunked form (torch_chunk_gated_delta_rule, what Qwen3-Next's Gated DeltaNet
layers run on a prompt) and the token-by-token form
(torch_recurrent_gated_delta_rule, what they run for a decode step).
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


class Rule(torch.nn.Module):
    """One of transformers' gated delta rule functions; `state`: initial and
    final state; `cast`: the final state is returned as float16 (a node reads
    it, as a model's cache update does)."""

    def __init__(self, recurrent, state, l2norm, cast=False):
        super().__init__()
        self.recurrent, self.state, self.l2norm, self.cast = recurrent, state, l2norm, cast

    def forward(self, q, k, v, g, beta, *state):
        from transformers.models.qwen3_next import modeling_qwen3_next as m

        rule = m.torch_recurrent_gated_delta_rule if self.recurrent else m.torch_chunk_gated_delta_rule
        out, final = rule(q, k, v, g=g, beta=beta, initial_state=state[0] if state else None,
                          output_final_state=self.state, use_qk_l2norm_in_kernel=self.l2norm)
        if self.state and self.cast:
            final = final.to(torch.float16)
        return (out, final) if self.state else out


# name: (recurrent, B, T, key heads, value heads, dk, dv, initial/final state,
#        l2norm inside, final state cast, dynamic batch); names ending in
#        "_legacy" are written by torch's TorchScript exporter (opset 17).
CASES = {
    "t130": (False, 2, 130, 2, 2, 16, 12, False, True, False, False),  # 3 chunks, 62 padding
    "t128_state": (False, 1, 128, 3, 3, 8, 16, True, False, False, False),  # 2 whole chunks
    "t20": (False, 1, 20, 2, 2, 16, 16, False, True, False, False),  # one chunk, mostly padding
    "t70_state_cast": (False, 1, 70, 2, 2, 8, 8, True, True, True, False),  # a node reads the state
    # token by token: a decode step (GVA 2 -> 4 heads), a few tokens, a node
    # reading the state, a dynamic batch
    "rec_t1_decode": (True, 1, 1, 2, 4, 16, 12, True, True, False, False),
    "rec_t6": (True, 2, 6, 2, 2, 8, 8, False, True, False, False),
    "rec_t5_state_cast": (True, 1, 5, 3, 3, 8, 16, True, False, True, False),
    "rec_t3_dynbatch": (True, 2, 3, 2, 2, 8, 6, True, True, False, True),
    "rec_t4_legacy": (True, 2, 4, 2, 2, 8, 6, True, True, False, False),
}


def export(name):
    recurrent, b, t, hk, hv, dk, dv, state, l2norm, cast, dyn = CASES[name]
    torch.manual_seed(0)
    q = torch.randn(b, t, hk, dk)
    k = torch.randn(b, t, hk, dk) / dk ** 0.5
    v = torch.randn(b, t, hv, dv)
    g = -torch.rand(b, t, hv) * 0.5
    beta = torch.rand(b, t, hv)
    args = (q, k, v, g, beta) + ((torch.randn(b, hv, dk, dv) * 0.1,) if state else ())
    names = ["q", "k", "v", "g", "beta"] + (["state"] if state else [])
    outs = ["out"] + (["final_state"] if state else [])
    path = os.path.join(OUT, f"{name}.onnx")
    model = Rule(recurrent, state, l2norm, cast).eval()
    batch = torch.export.Dim("B")
    dynamic = (({0: batch},) * 5 + (({0: batch},) * state,)) if dyn else None
    if name.endswith("_legacy"):
        torch.onnx.export(model, args, path, opset_version=17, dynamo=False,
                          input_names=names, output_names=outs)
    else:
        torch.onnx.export(model, args, path, opset_version=18, dynamo=True, external_data=False,
                          input_names=names, output_names=outs, dynamic_shapes=dynamic)
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

#!/usr/bin/env python3
"""Exports tiny random-weight Hugging Face transformers models with torch 2's
dynamo exporter, as a user would, and stores PyTorch's logits beside them
(test/models/hf/): python/tests/test_hf_exports.py compiles them with gatec.

Needs transformers, onnxscript and torch (the bench venv; `make bench` makes it,
then `.venv-bench/bin/pip install transformers onnxscript`); `make test` only
reads the committed files:

    .venv-bench/bin/python scripts/export_hf_models.py [name ...]

Each model is exported with a dynamic sequence length T; the .npz holds input
ids and logits at several lengths. Node metadata (the exporter's stack traces)
is stripped to keep the files small; the graph is unchanged.
"""
import os
import sys
import warnings

import numpy as np
import onnx
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "test", "models", "hf")
LENGTHS = (1, 37, 77, 130)
VOCAB = 128


# Sizes: "tiny" for the committed test models; "bench" for bench/run.py (hidden
# 1024, head dim 128, four layers: 3 Gated DeltaNet + 1 gated attention).
SIZES = {
    "tiny": dict(vocab=VOCAB, hidden=64, inter=128, heads=4, kv=2, hd=16, lv=4, lk=2, positions=256),
    "bench": dict(vocab=4096, hidden=1024, inter=2816, heads=8, kv=2, hd=128, lv=8, lk=4,
                  positions=4096),
}


def qwen3_next(size="tiny", moe=False):
    """Three Gated DeltaNet layers, then one gated-attention layer; dense MLPs,
    or sparse MoE ones (4 experts, top 2, a shared expert)."""
    from transformers import Qwen3NextConfig, Qwen3NextForCausalLM

    z = SIZES[size]
    experts = dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=z["hidden"] // 2,
                   shared_expert_intermediate_size=z["hidden"] // 2, decoder_sparse_step=1,
                   mlp_only_layers=[]) if moe else dict(num_experts=0, mlp_only_layers=[0, 1, 2, 3])
    cfg = Qwen3NextConfig(
        vocab_size=z["vocab"], hidden_size=z["hidden"], intermediate_size=z["inter"],
        num_hidden_layers=4, num_attention_heads=z["heads"], num_key_value_heads=z["kv"],
        head_dim=z["hd"], linear_num_value_heads=z["lv"], linear_num_key_heads=z["lk"],
        linear_key_head_dim=z["hd"], linear_value_head_dim=z["hd"], linear_conv_kernel_dim=4,
        full_attention_interval=4, max_position_embeddings=z["positions"], **experts)
    return Qwen3NextForCausalLM(cfg)


def qwen3_next_moe(size="tiny"):
    return qwen3_next(size, moe=True)


def qwen3(size="tiny"):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    z = SIZES[size]
    cfg = Qwen3Config(vocab_size=z["vocab"], hidden_size=z["hidden"],
                      intermediate_size=z["inter"], num_hidden_layers=2 if size == "tiny" else 4,
                      num_attention_heads=z["heads"], num_key_value_heads=z["kv"],
                      head_dim=z["hd"], max_position_embeddings=z["positions"])
    return Qwen3ForCausalLM(cfg)


def mistral(size="tiny"):
    from transformers import MistralConfig, MistralForCausalLM

    cfg = MistralConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        head_dim=16, max_position_embeddings=256, sliding_window=None)
    return MistralForCausalLM(cfg)


def mistral_swa(size="tiny"):
    """Mistral with a sliding window of 8 tokens (keys i-7..i), shorter than
    the test lengths."""
    from transformers import MistralConfig, MistralForCausalLM

    cfg = MistralConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        head_dim=16, max_position_embeddings=256, sliding_window=8)
    return MistralForCausalLM(cfg)


MODELS = {"qwen3_next": qwen3_next, "qwen3_next_moe": qwen3_next_moe, "qwen3": qwen3,
          "mistral": mistral, "mistral_swa": mistral_swa}


class Logits(torch.nn.Module):
    """input_ids [1, T] -> logits [1, T, vocab], without a KV cache."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(input_ids=ids, use_cache=False).logits


def strip(path):
    m = onnx.load(path)
    for n in m.graph.node:
        del n.metadata_props[:]
        n.doc_string = ""
    for v in list(m.graph.input) + list(m.graph.output):
        del v.metadata_props[:]
    del m.graph.value_info[:]
    del m.metadata_props[:]
    onnx.save(m, path)


def export_file(model, path, opset, length, max_length=256):
    """Exports `model` (Logits) to `path`. opset: torch's exporter at that opset,
    or "gatec": gatec.torch.export (the gated delta rule as ONNX LinearAttention).
    The traced length is `length`; T stays dynamic where the export allows."""
    model = model.eval()
    ids = torch.randint(0, model.model.config.vocab_size, (1, length))
    kw = dict(input_names=["ids"], output_names=["logits"],
              dynamic_shapes=({1: torch.export.Dim("T", min=2, max=max_length)},))
    if opset == "transformers":
        # transformers' own exporter (transformers.exporters), which knows the
        # MoE experts' grouped matmul that torch's exporter cannot translate.
        import tempfile

        from transformers.exporters.exporter_onnx import OnnxConfig, OnnxExporter

        with tempfile.TemporaryDirectory() as tmp:
            OnnxExporter().export(model.model, {"input_ids": ids},
                                  config=OnnxConfig(dynamic=True)).save_pretrained(tmp)
            onnx.save(onnx.load(os.path.join(tmp, "model.onnx")), path)
    elif opset == "gatec":
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                                        "python"))
        import gatec.torch

        gatec.torch.export(model, (ids,), path, **kw)
    else:
        torch.onnx.export(model, (ids,), path, opset_version=opset, dynamo=True,
                          external_data=False, **kw)
    strip(path)


# transformers' exporter traces the chunked gated delta rule's chunk loop
# once: its file is valid up to one chunk (64 tokens); ONNX Runtime rejects
# longer inputs, gatec has no in-graph shape check yet (issue 13).
VALID_LENGTHS = {"transformers": (1, 37)}


def export(name, opset=18):
    torch.manual_seed(0)
    model = Logits(MODELS[name]().eval())
    tag = opset if isinstance(opset, str) else f"opset{opset}"
    path = os.path.join(OUT, f"{name}_{tag}.onnx")
    export_file(model, path, opset, LENGTHS[1])
    # The exporter specializes T where the model's code branches on it
    # (Qwen3-Next's chunked delta rule): keep the lengths the file accepts.
    dim = onnx.load(path).graph.input[0].type.tensor_type.shape.dim[1]
    lengths = VALID_LENGTHS.get(opset, LENGTHS) if dim.dim_param else (dim.dim_value,)
    data = {}
    rng = np.random.default_rng(0)
    with torch.inference_mode():
        for t in lengths:
            x = torch.from_numpy(rng.integers(0, VOCAB, (1, t)).astype(np.int64))
            data[f"ids_{t}"] = x.numpy()
            data[f"logits_{t}"] = model(x).numpy()
    np.savez_compressed(path.replace(".onnx", ".npz"), **data)
    print(f"{path}: {os.path.getsize(path)} bytes")


def export_decode(name="qwen3_next", prompt=9, size="tiny", path=None, tokens=1):
    """One decode step with a cache, as transformers' own exporter writes it
    (transformers.exporters: the prompt run through model.generate(), the
    second forward captured with its cache and exported): the cache tensors
    are graph inputs and outputs, and Qwen3-Next's Gated DeltaNet layers run
    torch_recurrent_gated_delta_rule on the one new token. With `tokens` > 1
    the step takes that many new tokens at once (a chunked prefill over the
    cache). Writes the .onnx and an .npz with the inputs (by graph input
    name) and PyTorch's logits and updated cache; returns (path, the step
    module, its inputs)."""
    import copy
    import tempfile

    from transformers.exporters.exporter_onnx import OnnxConfig, OnnxExporter
    from transformers.exporters.utils import (decompose_for_generation, get_leaf_tensors,
                                              onnx_feed)

    torch.manual_seed(0)
    model = MODELS[name](size).eval()
    ids = torch.randint(0, model.config.vocab_size, (1, prompt))
    step, inputs = decompose_for_generation(model, {"input_ids": ids})["decode"]
    if tokens > 1:
        inputs["input_ids"] = torch.randint(0, model.config.vocab_size, (1, tokens))
        inputs["position_ids"] = torch.arange(prompt, prompt + tokens)[None]
    kind = "decode" if tokens == 1 else f"chunk{tokens}"
    path = path or os.path.join(OUT, f"{name}_{kind}_transformers.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        OnnxExporter().export(step, copy.deepcopy(inputs),
                              config=OnnxConfig(dynamic=True)).save_pretrained(tmp)
        onnx.save(onnx.load(os.path.join(tmp, "model.onnx")), path)
    strip(path)
    m = onnx.load(path)
    data = {"in:" + k: v for k, v in onnx_feed([i.name for i in m.graph.input], inputs).items()}
    with torch.inference_mode():
        out = step(**copy.deepcopy(inputs))
    data["logits"] = out.logits.numpy()
    outputs = {o.name for o in m.graph.output}
    for key, state in get_leaf_tensors(out.past_key_values).items():
        if "output.cache." + key in outputs:
            data["out:output.cache." + key] = state.numpy()
    np.savez_compressed(path.replace(".onnx", ".npz"), **data)
    print(f"{path}: {os.path.getsize(path)} bytes")
    return path, step, inputs


# torch's default opset (18: attention decomposed into MatMul/Softmax),
# opset 24 (ONNX Attention with transformers' boolean mask), and
# gatec.torch.export (opset 24 + LinearAttention-27 for the gated delta rule).
EXPORTS = [("qwen3", 18), ("mistral", 18), ("qwen3_next", 18), ("qwen3", 24),
           ("qwen3_next", 24), ("qwen3_next", "gatec"), ("qwen3_next_moe", "transformers"),
           ("mistral_swa", 18)]


def main():
    warnings.filterwarnings("ignore")
    os.makedirs(OUT, exist_ok=True)
    for name, opset in EXPORTS:
        if not sys.argv[1:] or name in sys.argv[1:]:
            export(name, opset)
    for name in ("qwen3_next", "qwen3_next_moe", "qwen3"):
        if not sys.argv[1:] or name + "_decode" in sys.argv[1:]:
            export_decode(name)
    # a chunked prefill: 5 new tokens over the cache of a 9-token prompt (the
    # new-token count is dynamic in the file: 1 is a decode step)
    for name in ("qwen3", "mistral_swa"):
        if not sys.argv[1:] or name + "_chunk" in sys.argv[1:]:
            export_decode(name, tokens=5)


if __name__ == "__main__":
    main()

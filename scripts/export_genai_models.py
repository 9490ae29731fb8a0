#!/usr/bin/env python3
"""Builds tiny random-weight transformers models with onnxruntime-genai's model
builder, as a user would (`python -m onnxruntime_genai.models.builder -i HF_DIR
-o OUT -p fp32 -e cpu`), and stores PyTorch's logits for a prefill and five
decode steps beside them (test/models/genai/): python/tests/test_genai_models.py
compiles them with gatec and runs the same steps through the KV cache inputs.

Needs transformers and onnxruntime-genai (`.venv-bench/bin/pip install
onnxruntime-genai`); `make test` only reads the committed files:

    .venv-bench/bin/python scripts/export_genai_models.py [name ...]

The builder writes its weights to an external file; they are embedded into the
committed .onnx so that each model is one small file.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "test", "models",
                   "genai")
VOCAB, PREFILL, DECODE = 512, 13, 5


# "tiny" for the committed test models, "bench" for bench/run.py --only genai.
SIZES = {"tiny": dict(vocab=VOCAB, hidden=64, inter=128, layers=2, heads=4, kv=2, hd=16,
                      positions=256),
         "bench": dict(vocab=4096, hidden=1024, inter=2816, layers=4, heads=8, kv=2, hd=128,
                       positions=4096)}


def qwen3(size="tiny"):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    z = SIZES[size]
    cfg = Qwen3Config(vocab_size=z["vocab"], hidden_size=z["hidden"],
                      intermediate_size=z["inter"], num_hidden_layers=z["layers"],
                      num_attention_heads=z["heads"], num_key_value_heads=z["kv"],
                      head_dim=z["hd"], max_position_embeddings=z["positions"],
                      tie_word_embeddings=False)
    torch.manual_seed(0)
    return Qwen3ForCausalLM(cfg).eval()


def qwen35(size="tiny"):
    """Qwen3.5 (hybrid: three Gated DeltaNet layers, one gated attention
    layer), built as the builder expects: Qwen3_5ForConditionalGeneration with
    a one-block vision tower it leaves out. "bench": hidden 1024, attention
    8 / 2 heads of 128, Gated DeltaNet 8 key / 16 value heads of 128."""
    from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration

    z = SIZES[size]
    lin = 16 if size == "tiny" else 128
    text = dict(vocab_size=z["vocab"], hidden_size=z["hidden"], intermediate_size=z["inter"],
                num_hidden_layers=4, num_attention_heads=z["heads"],
                num_key_value_heads=z["kv"], head_dim=z["hd"], linear_conv_kernel_dim=4,
                linear_key_head_dim=lin, linear_value_head_dim=lin,
                linear_num_key_heads=2 if size == "tiny" else 8,
                linear_num_value_heads=4 if size == "tiny" else 16,
                max_position_embeddings=z["positions"], tie_word_embeddings=False,
                layer_types=["linear_attention"] * 3 + ["full_attention"])
    vision = dict(depth=1, hidden_size=32, num_heads=2, intermediate_size=64,
                  out_hidden_size=z["hidden"])
    cfg = Qwen3_5Config(text_config=text, vision_config=vision, tie_word_embeddings=False)
    torch.manual_seed(0)
    return Qwen3_5ForConditionalGeneration(cfg).eval()


def qwen35_moe(size="tiny"):
    """Qwen3.5-MoE: qwen35's layers with a mixture-of-experts MLP and a gated
    shared expert, which the builder writes as com.microsoft MoE + GatedAdd.
    "tiny": 4 experts, top 2; "bench": 16 experts of 256, top 4, a shared
    expert of 512."""
    from transformers import Qwen3_5MoeConfig, Qwen3_5MoeForConditionalGeneration

    z = SIZES[size]
    text = dict(vocab_size=z["vocab"], hidden_size=z["hidden"], num_hidden_layers=4,
                num_attention_heads=z["heads"], num_key_value_heads=z["kv"], head_dim=z["hd"],
                linear_conv_kernel_dim=4, linear_key_head_dim=16, linear_value_head_dim=16,
                linear_num_key_heads=2, linear_num_value_heads=4,
                max_position_embeddings=z["positions"], tie_word_embeddings=False,
                layer_types=["linear_attention"] * 3 + ["full_attention"],
                num_experts=4 if size == "tiny" else 16,
                num_experts_per_tok=2 if size == "tiny" else 4,
                moe_intermediate_size=z["inter"] // 4 if size == "tiny" else 256,
                shared_expert_intermediate_size=z["inter"] // 4 if size == "tiny" else 512)
    vision = dict(depth=1, hidden_size=32, num_heads=2, intermediate_size=64,
                  out_hidden_size=z["hidden"])
    cfg = Qwen3_5MoeConfig(text_config=text, vision_config=vision, tie_word_embeddings=False)
    torch.manual_seed(0)
    return Qwen3_5MoeForConditionalGeneration(cfg).eval()


def build(model, precision, out_dir):
    """Runs the builder on `model` (saved as a Hugging Face folder first);
    returns the path of the model.onnx it writes (weights beside it)."""
    hf = os.path.join(out_dir, "hf")
    model.save_pretrained(hf)
    built = os.path.join(out_dir, "onnx")
    subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", hf, "-o",
                    built, "-p", precision, "-e", "cpu", "-c", os.path.join(out_dir, "cache")],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(built, "model.onnx")


# fp16 on the CPU: the builder writes MultiHeadAttention + RotaryEmbedding and
# an additive mask instead of GroupQueryAttention. (Its fp16 and bf16 Qwen3.5
# files are invalid: a node reads 'past_key_values.0.key', which layer 0, a
# DeltaNet layer, does not have; ONNX Runtime rejects them as gatec does.)
# int4: com.microsoft MatMulNBits (4-bit blocks of 32) for every projection.
MODELS = {"qwen3_fp32": (qwen3, "fp32"), "qwen3_fp16": (qwen3, "fp16"),
          "qwen35_fp32": (qwen35, "fp32"), "qwen35moe_fp32": (qwen35_moe, "fp32"),
          "qwen3_int4": (qwen3, "int4")}


def torch_steps(model, rng):
    """Token ids of a prefill and DECODE single-token steps, and PyTorch's
    logits for each step (running its KV cache)."""
    ids = [rng.integers(0, VOCAB, (1, PREFILL))] + [rng.integers(0, VOCAB, (1, 1))
                                                      for _ in range(DECODE)]
    logits, cache = [], None
    with torch.no_grad():
        for x in ids:
            out = model(input_ids=torch.from_numpy(x), past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            logits.append(out.logits.float().numpy())
    return ids, logits


def export(name):
    make, precision = MODELS[name]
    model = make()
    with tempfile.TemporaryDirectory() as tmp:
        m = onnx.load(build(model, precision, tmp), load_external_data=True)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".onnx")
    onnx.save(m, path, save_as_external_data=False)
    ids, logits = torch_steps(model, np.random.default_rng(0))
    np.savez(os.path.join(OUT, name + ".npz"),
             **{f"ids_{k}": x for k, x in enumerate(ids)},
             **{f"logits_{k}": x for k, x in enumerate(logits)})
    print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB)")


if __name__ == "__main__":
    for n in sys.argv[1:] or sorted(MODELS):
        export(n)

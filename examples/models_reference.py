"""Float64 numpy references of the example models built by make_models.py.

    from models_reference import reference_outputs
    outs = reference_outputs("qwen3_next_gated_deltanet", {"hidden_states": x})
    outs["output"]  # float64 [batch, seq, 64]

The references are written from the layer definitions (Qwen3-Next), not from the graphs,
using gatec.reference for the attention ops: sdpa with its fused sigmoid gate, causal_conv,
and linear_attention in its GVA head mapping (2 q/k heads, 4 value heads) -- the models
instead repeat q/k to the value heads, so the two sides check each other.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (_HERE, os.path.join(os.path.dirname(_HERE), "python")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import make_models as mm  # noqa: E402
from gatec import reference as ref  # noqa: E402


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def rms_norm(x, w, eps=mm.EPS):
    """x / sqrt(mean(x^2, last axis) + eps) * w."""
    x = _f64(x)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * _f64(w)


def l2_norm(x, eps=mm.EPS):
    """x / sqrt(sum(x^2, last axis) + eps)."""
    x = _f64(x)
    return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + eps)


def rope_partial(x, cos_cache, sin_cache, position_ids, rot):
    """Non-interleaved (rotate_half) RoPE on the first `rot` channels of x [B,H,S,D]."""
    x = _f64(x)
    cos = _f64(cos_cache)[position_ids][:, None]  # [B,1,S,rot/2]
    sin = _f64(sin_cache)[position_ids][:, None]
    h = rot // 2
    x1, x2, rest = x[..., :h], x[..., h:rot], x[..., rot:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], axis=-1)


def attention_reference(hidden_states, position_ids, w):
    x = _f64(hidden_states)
    B, S, _ = x.shape
    Hq, Hkv, D = mm.ATTN_HQ, mm.ATTN_HKV, mm.ATTN_D
    qg = (x @ _f64(w["q_proj"])).reshape(B, S, Hq, 2 * D)
    q, g = qg[..., :D], qg[..., D:]
    k = (x @ _f64(w["k_proj"])).reshape(B, S, Hkv, D)
    v = (x @ _f64(w["v_proj"])).reshape(B, S, Hkv, D)
    q = rms_norm(q, w["q_norm"]).transpose(0, 2, 1, 3)
    k = rms_norm(k, w["k_norm"]).transpose(0, 2, 1, 3)
    v = v.transpose(0, 2, 1, 3)
    pos = np.asarray(position_ids, dtype=np.int64)
    q = rope_partial(q, w["cos_cache"], w["sin_cache"], pos, mm.ATTN_ROT)
    k = rope_partial(k, w["cos_cache"], w["sin_cache"], pos, mm.ATTN_ROT)
    o = ref.sdpa(q, k, v, gate=g.transpose(0, 2, 1, 3), causal=True, gate_act="sigmoid")
    o = o.transpose(0, 2, 1, 3).reshape(B, S, Hq * D)
    return o @ _f64(w["o_proj"])


def gated_deltanet_reference(hidden_states, w):
    x = _f64(hidden_states)
    B, S, _ = x.shape
    Hk, Hv, Dk, Dv = mm.GDN_HK, mm.GDN_HV, mm.GDN_DK, mm.GDN_DV
    q = x @ _f64(w["q_proj"])
    k = x @ _f64(w["k_proj"])
    v = x @ _f64(w["v_proj"])
    z = x @ _f64(w["z_proj"])
    b = x @ _f64(w["b_proj"])
    a = x @ _f64(w["a_proj"])

    qkv = np.concatenate([q, k, v], axis=-1).transpose(0, 2, 1)  # [B, C, S]
    conv, _ = ref.causal_conv(qkv, _f64(w["conv_weight"])[:, 0, :], activation="silu")
    conv = conv.transpose(0, 2, 1)
    KD = mm.GDN_KEY_DIM
    q, k, v = conv[..., :KD], conv[..., KD:2 * KD], conv[..., 2 * KD:]
    q = l2_norm(q.reshape(B, S, Hk, Dk)).transpose(0, 2, 1, 3)  # [B,Hk,S,Dk]
    k = l2_norm(k.reshape(B, S, Hk, Dk)).transpose(0, 2, 1, 3)
    v = v.reshape(B, S, Hv, Dv).transpose(0, 2, 1, 3)  # [B,Hv,S,Dv]

    beta = ref.sigmoid(b).transpose(0, 2, 1)  # [B,Hv,S]
    g = (-np.exp(_f64(w["A_log"])) * ref.softplus(a + _f64(w["dt_bias"]))).transpose(0, 2, 1)

    # GVA: value head j reads q/k head j // (Hv/Hk); scale 1/sqrt(Dk)
    o, _ = ref.linear_attention(q, k, v, "gated_delta", decay=g, beta=beta, scale=1.0 / math.sqrt(Dk))
    o = o.transpose(0, 2, 1, 3)  # [B,S,Hv,Dv]
    z = z.reshape(B, S, Hv, Dv)
    o = ref.gate(rms_norm(o, w["norm_weight"]), z, act="silu")
    return o.reshape(B, S, Hv * Dv) @ _f64(w["out_proj"])


def reference_outputs(model_name, inputs, seed=mm.DEFAULT_SEED, weights=None):
    """The outputs of example model `model_name` on `inputs` ({input name: array}),
    in float64, as {output name: array}.  A model and its _decomposed twin give the same."""
    if model_name not in mm.MODEL_NAMES:
        raise ValueError(f"unknown model {model_name!r}; known: {mm.MODEL_NAMES}")
    w = weights if weights is not None else mm.make_weights(model_name, seed)
    if model_name.startswith("qwen3_next_attention"):
        return {"output": attention_reference(inputs["hidden_states"], inputs["position_ids"], w)}
    return {"output": gated_deltanet_reference(inputs["hidden_states"], w)}

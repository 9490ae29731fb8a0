#!/usr/bin/env python3
"""Build small Qwen3-Next-style gated-attention ONNX models.

    python examples/make_models.py OUTDIR [--seed N]

writes into OUTDIR:

  qwen3_next_attention.onnx             gated softmax-attention layer with the fused ONNX ops
                                        (RMSNormalization-23, RotaryEmbedding-23, Attention-24)
  qwen3_next_attention_decomposed.onnx  the same layer as exporters write it: no Attention,
                                        RMSNorm / RoPE / SDPA / GQA spelled out in basic ops
  qwen3_next_gated_deltanet.onnx        Gated DeltaNet layer with CausalConvWithState-27 and
                                        LinearAttention-27 (update_rule = gated_delta)
  qwen3_next_gated_deltanet_decomposed.onnx
                                        the same layer with the recurrence as a Scan whose body
                                        does one token step (no LinearAttention)

All models take ``hidden_states [batch, seq, 64]`` (float32; "batch" and "seq" symbolic) and
return ``output [batch, seq, 64]``; the attention models also take ``position_ids [batch, seq]``
(int64).  Weights are random with a fixed seed (``make_weights``), stored as initializers; a
fused model and its decomposed twin share the same weights, so they compute the same function.
``examples/models_reference.py`` computes that function in float64 numpy.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# --------------------------------------------------------------------------- #
# Configuration (shared with models_reference.py)
# --------------------------------------------------------------------------- #
HIDDEN = 64
EPS = 1e-6

# gated softmax attention
ATTN_HQ = 4  # query heads
ATTN_HKV = 2  # kv heads (GQA 2:1)
ATTN_D = 16  # head size
ATTN_ROT = ATTN_D // 2  # partial rotary: the first D/2 channels
ROPE_THETA = 10000.0
MAX_POSITIONS = 1024

# Gated DeltaNet
GDN_HK = 2  # query/key heads
GDN_HV = 4  # value heads (GVA 1:2)
GDN_DK = 16
GDN_DV = 16
GDN_CONV_K = 4
GDN_KEY_DIM = GDN_HK * GDN_DK  # 32
GDN_VALUE_DIM = GDN_HV * GDN_DV  # 64
GDN_CONV_DIM = 2 * GDN_KEY_DIM + GDN_VALUE_DIM  # 128

ATTENTION_OPSET = 24
LINEAR_OPSET = 27
IR_VERSION = 10

MODEL_NAMES = (
    "qwen3_next_attention",
    "qwen3_next_attention_decomposed",
    "qwen3_next_gated_deltanet",
    "qwen3_next_gated_deltanet_decomposed",
)

DEFAULT_SEED = 0


# --------------------------------------------------------------------------- #
# Weights
# --------------------------------------------------------------------------- #
def _dense(r, fan_in, fan_out):
    return (r.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)).astype(np.float32)


def rope_cache(max_positions=MAX_POSITIONS, rot=ATTN_ROT, theta=ROPE_THETA):
    """cos/sin caches [max_positions, rot/2] for non-interleaved (rotate_half) RoPE."""
    inv_freq = 1.0 / theta ** (np.arange(0, rot, 2, dtype=np.float64) / rot)
    ang = np.arange(max_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def make_weights(model_name, seed=DEFAULT_SEED):
    """The float32 weights of a model (a fused model and its _decomposed twin share them)."""
    base = model_name.replace("_decomposed", "")
    if base == "qwen3_next_attention":
        r = np.random.default_rng(seed)
        cos, sin = rope_cache()
        return {
            # q_proj produces [query | gate] interleaved per head: [..., Hq, 2*D]
            "q_proj": _dense(r, HIDDEN, ATTN_HQ * 2 * ATTN_D),
            "k_proj": _dense(r, HIDDEN, ATTN_HKV * ATTN_D),
            "v_proj": _dense(r, HIDDEN, ATTN_HKV * ATTN_D),
            "o_proj": _dense(r, ATTN_HQ * ATTN_D, HIDDEN),
            "q_norm": (1.0 + 0.1 * r.standard_normal(ATTN_D)).astype(np.float32),
            "k_norm": (1.0 + 0.1 * r.standard_normal(ATTN_D)).astype(np.float32),
            "cos_cache": cos,
            "sin_cache": sin,
        }
    if base == "qwen3_next_gated_deltanet":
        r = np.random.default_rng(seed + 1)
        return {
            "q_proj": _dense(r, HIDDEN, GDN_KEY_DIM),
            "k_proj": _dense(r, HIDDEN, GDN_KEY_DIM),
            "v_proj": _dense(r, HIDDEN, GDN_VALUE_DIM),
            "z_proj": _dense(r, HIDDEN, GDN_VALUE_DIM),
            "b_proj": _dense(r, HIDDEN, GDN_HV),
            "a_proj": _dense(r, HIDDEN, GDN_HV),
            "conv_weight": (0.5 * r.standard_normal((GDN_CONV_DIM, 1, GDN_CONV_K))).astype(np.float32),
            # mild decays (g mostly in -0.01 .. -1) so the state carries over many tokens
            "A_log": np.log(r.uniform(0.1, 0.5, GDN_HV)).astype(np.float32),
            "dt_bias": (-1.0 + 0.1 * r.standard_normal(GDN_HV)).astype(np.float32),
            "norm_weight": (1.0 + 0.1 * r.standard_normal(GDN_DV)).astype(np.float32),
            "out_proj": _dense(r, GDN_VALUE_DIM, HIDDEN),
        }
    raise ValueError(f"unknown model {model_name!r}; known: {MODEL_NAMES}")


# --------------------------------------------------------------------------- #
# Graph building helpers
# --------------------------------------------------------------------------- #
class _Builder:
    """Collects nodes and initializers; names every node."""

    def __init__(self, prefix=""):
        self.nodes = []
        self.inits = []
        self._n = 0
        self.prefix = prefix

    def _name(self, base):
        self._n += 1
        return f"{self.prefix}{base}_{self._n}"

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def const_i64(self, name, values):
        return self.init(name, np.asarray(values, dtype=np.int64))

    def const_f32(self, name, values):
        return self.init(name, np.asarray(values, dtype=np.float32))

    def op(self, op_type, inputs, n_out=1, name=None, outputs=None, **attrs):
        name = name or self._name(op_type)
        if outputs is None:
            outputs = [f"{name}_out{i}" if n_out > 1 else f"{name}_out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs


def _model(b, name, inputs, outputs, opset, doc):
    graph = helper.make_graph(b.nodes, name, inputs, outputs, initializer=b.inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="gatec-examples",
        ir_version=IR_VERSION,
        doc_string=doc,
    )
    return model


def _hidden_input():
    return helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, ["batch", "seq", HIDDEN])


def _output():
    return helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "seq", HIDDEN])


def _add_weights(b, w):
    for k, v in w.items():
        b.init(k, v)


# --------------------------------------------------------------------------- #
# Gated softmax attention
# --------------------------------------------------------------------------- #
def _attention_front(b):
    """Projections, split of query and gate, per-head shapes. Returns (q, gate, k, v) as
    [B, S, H, D] tensors."""
    D = ATTN_D
    qg = b.op("MatMul", ["hidden_states", "q_proj"], name="q_proj_matmul")
    qg4 = b.op("Reshape", [qg, b.const_i64("shape_q_gate", [0, 0, ATTN_HQ, 2 * D])], name="q_gate_reshape")
    q, g = b.op("Split", [qg4, b.const_i64("split_q_gate", [D, D])], n_out=2, axis=-1,
                name="q_gate_split", outputs=["query_states", "gate_states"])
    k = b.op("MatMul", ["hidden_states", "k_proj"], name="k_proj_matmul")
    k4 = b.op("Reshape", [k, b.const_i64("shape_kv", [0, 0, ATTN_HKV, D])], name="k_reshape")
    v = b.op("MatMul", ["hidden_states", "v_proj"], name="v_proj_matmul")
    v4 = b.op("Reshape", [v, "shape_kv"], name="v_reshape")
    return q, g, k4, v4


def _attention_back(b, attn_bhsd, gate_bshd):
    """[B,H,S,D] attention output -> gate -> o_proj -> output."""
    t = b.op("Transpose", [attn_bhsd], perm=[0, 2, 1, 3], name="attn_transpose_out")
    sg = b.op("Sigmoid", [gate_bshd], name="gate_sigmoid")
    gated = b.op("Mul", [t, sg], name="gate_mul")
    flat = b.op("Reshape", [gated, b.const_i64("shape_flat", [0, 0, ATTN_HQ * ATTN_D])], name="attn_flatten")
    b.op("MatMul", [flat, "o_proj"], name="o_proj_matmul", outputs=["output"])


def build_attention(seed=DEFAULT_SEED):
    b = _Builder()
    _add_weights(b, make_weights("qwen3_next_attention", seed))
    q, g, k, v = _attention_front(b)
    qn = b.op("RMSNormalization", [q, "q_norm"], axis=-1, epsilon=EPS, name="q_norm")
    kn = b.op("RMSNormalization", [k, "k_norm"], axis=-1, epsilon=EPS, name="k_norm")
    qt = b.op("Transpose", [qn], perm=[0, 2, 1, 3], name="q_transpose")
    kt = b.op("Transpose", [kn], perm=[0, 2, 1, 3], name="k_transpose")
    vt = b.op("Transpose", [v], perm=[0, 2, 1, 3], name="v_transpose")
    qr = b.op("RotaryEmbedding", [qt, "cos_cache", "sin_cache", "position_ids"],
              rotary_embedding_dim=ATTN_ROT, interleaved=0, name="q_rope")
    kr = b.op("RotaryEmbedding", [kt, "cos_cache", "sin_cache", "position_ids"],
              rotary_embedding_dim=ATTN_ROT, interleaved=0, name="k_rope")
    attn = b.op("Attention", [qr, kr, vt], is_causal=1, name="attention")
    _attention_back(b, attn, g)
    pos = helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"])
    return _model(b, "qwen3_next_attention", [_hidden_input(), pos], [_output()], ATTENTION_OPSET,
                  "Qwen3-Next gated attention layer (fused ONNX ops)")


def _rms_norm_decomposed(b, x, w, tag):
    sq = b.op("Pow", [x, b.const_f32(f"{tag}_two", 2.0)], name=f"{tag}_pow")
    ms = b.op("ReduceMean", [sq, b.const_i64(f"{tag}_axes", [-1])], keepdims=1, name=f"{tag}_mean")
    r = b.op("Sqrt", [b.op("Add", [ms, b.const_f32(f"{tag}_eps", EPS)], name=f"{tag}_add_eps")],
             name=f"{tag}_sqrt")
    inv = b.op("Reciprocal", [r], name=f"{tag}_rsqrt")
    return b.op("Mul", [b.op("Mul", [x, inv], name=f"{tag}_scale"), w], name=f"{tag}_weight")


def _rope_decomposed(b, x, cos4, sin4, tag):
    """rotate_half RoPE on the first ATTN_ROT channels of x [B,H,S,D]."""
    ax = "rope_axis_last"
    x_rot = b.op("Slice", [x, "rope_0", "rope_R", ax], name=f"{tag}_slice_rot")
    x_pass = b.op("Slice", [x, "rope_R", "rope_D", ax], name=f"{tag}_slice_pass")
    x1 = b.op("Slice", [x_rot, "rope_0", "rope_H", ax], name=f"{tag}_slice_x1")
    x2 = b.op("Slice", [x_rot, "rope_H", "rope_R", ax], name=f"{tag}_slice_x2")
    rh = b.op("Concat", [b.op("Neg", [x2], name=f"{tag}_neg"), x1], axis=-1, name=f"{tag}_rotate_half")
    emb = b.op("Add", [b.op("Mul", [x_rot, cos4], name=f"{tag}_mul_cos"),
                       b.op("Mul", [rh, sin4], name=f"{tag}_mul_sin")], name=f"{tag}_add")
    return b.op("Concat", [emb, x_pass], axis=-1, name=f"{tag}_concat_pass")


def _repeat_kv(b, x, tag):
    """[B,Hkv,S,D] -> [B,Hq,S,D], kv head j repeated Hq/Hkv times (repeat_interleave)."""
    u = b.op("Unsqueeze", [x, "axis_2"], name=f"{tag}_unsqueeze")
    e = b.op("Expand", [u, "repeat_kv_shape"], name=f"{tag}_expand")
    return b.op("Reshape", [e, "shape_q_heads"], name=f"{tag}_reshape")


def build_attention_decomposed(seed=DEFAULT_SEED):
    b = _Builder()
    _add_weights(b, make_weights("qwen3_next_attention", seed))
    q, g, k, v = _attention_front(b)
    qn = _rms_norm_decomposed(b, q, "q_norm", "q_norm")
    kn = _rms_norm_decomposed(b, k, "k_norm", "k_norm")
    qt = b.op("Transpose", [qn], perm=[0, 2, 1, 3], name="q_transpose")
    kt = b.op("Transpose", [kn], perm=[0, 2, 1, 3], name="k_transpose")
    vt = b.op("Transpose", [v], perm=[0, 2, 1, 3], name="v_transpose")

    # RoPE caches gathered by position, duplicated to the full rotary width, [B,1,S,R]
    b.const_i64("rope_0", [0])
    b.const_i64("rope_H", [ATTN_ROT // 2])
    b.const_i64("rope_R", [ATTN_ROT])
    b.const_i64("rope_D", [ATTN_D])
    b.const_i64("rope_axis_last", [-1])
    b.const_i64("axis_1", [1])
    b.const_i64("axis_2", [2])
    cos = b.op("Gather", ["cos_cache", "position_ids"], axis=0, name="rope_gather_cos")
    sin = b.op("Gather", ["sin_cache", "position_ids"], axis=0, name="rope_gather_sin")
    cos = b.op("Unsqueeze", [b.op("Concat", [cos, cos], axis=-1, name="rope_cos_cat"), "axis_1"],
               name="rope_cos_unsqueeze")
    sin = b.op("Unsqueeze", [b.op("Concat", [sin, sin], axis=-1, name="rope_sin_cat"), "axis_1"],
               name="rope_sin_unsqueeze")
    qr = _rope_decomposed(b, qt, cos, sin, "q_rope")
    kr = _rope_decomposed(b, kt, cos, sin, "k_rope")

    # GQA: expand K/V to the query heads
    b.const_i64("repeat_kv_shape", [1, 1, ATTN_HQ // ATTN_HKV, 1, 1])
    b.const_i64("shape_q_heads", [0, ATTN_HQ, -1, ATTN_D])
    ke = _repeat_kv(b, kr, "k_repeat")
    ve = _repeat_kv(b, vt, "v_repeat")

    # causal mask [S, S]: 0 on and below the diagonal, -inf above
    s = b.op("Shape", ["hidden_states"], start=1, end=2, name="mask_seq_len")
    ss = b.op("Concat", [s, s], axis=0, name="mask_shape")
    ones = b.op("ConstantOfShape", [ss], value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
                name="mask_ones")
    tril = b.op("Trilu", [ones], upper=0, name="mask_trilu")
    allowed = b.op("Cast", [tril], to=TensorProto.BOOL, name="mask_cast")
    mask = b.op("Where", [allowed, b.const_f32("mask_zero", 0.0), b.const_f32("mask_neg_inf", -np.inf)],
                name="mask_where")

    # SDPA
    kT = b.op("Transpose", [ke], perm=[0, 1, 3, 2], name="k_transpose_for_scores")
    scores = b.op("MatMul", [qr, kT], name="qk_matmul")
    scaled = b.op("Mul", [scores, b.const_f32("attn_scale", 1.0 / math.sqrt(ATTN_D))], name="qk_scale")
    masked = b.op("Add", [scaled, mask], name="qk_add_mask")
    probs = b.op("Softmax", [masked], axis=-1, name="attn_softmax")
    attn = b.op("MatMul", [probs, ve], name="attn_v_matmul")
    _attention_back(b, attn, g)
    pos = helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"])
    return _model(b, "qwen3_next_attention_decomposed", [_hidden_input(), pos], [_output()],
                  ATTENTION_OPSET, "Qwen3-Next gated attention layer, exporter-style (no Attention op)")


# --------------------------------------------------------------------------- #
# Gated DeltaNet
# --------------------------------------------------------------------------- #
def _gdn_front(b):
    """Projections, short conv + SiLU, L2 norm, GVA repeat, beta and g.

    Returns (q, k, v, beta, g, z) with q/k/v packed [B,S,Hv*d], beta/g [B,S,Hv], z [B,S,Hv,Dv].
    """
    x = "hidden_states"
    q = b.op("MatMul", [x, "q_proj"], name="q_proj_matmul")
    k = b.op("MatMul", [x, "k_proj"], name="k_proj_matmul")
    v = b.op("MatMul", [x, "v_proj"], name="v_proj_matmul")
    z = b.op("MatMul", [x, "z_proj"], name="z_proj_matmul")
    bb = b.op("MatMul", [x, "b_proj"], name="b_proj_matmul")
    a = b.op("MatMul", [x, "a_proj"], name="a_proj_matmul")

    qkv = b.op("Concat", [q, k, v], axis=-1, name="qkv_concat")  # [B,S,128]
    qkv_t = b.op("Transpose", [qkv], perm=[0, 2, 1], name="qkv_to_channels")  # [B,128,S]
    conv, _ = b.op("CausalConvWithState", [qkv_t, "conv_weight"], activation="silu", name="short_conv",
                outputs=["conv_out", "conv_state"])
    conv_t = b.op("Transpose", [conv], perm=[0, 2, 1], name="qkv_from_channels")  # [B,S,128]
    qc, kc, vc = b.op("Split", [conv_t, b.const_i64("split_qkv", [GDN_KEY_DIM, GDN_KEY_DIM, GDN_VALUE_DIM])],
                      n_out=3, axis=-1, name="qkv_split")

    b.const_i64("shape_qk_heads", [0, 0, GDN_HK, GDN_DK])
    b.const_i64("axes_last", [-1])
    b.const_f32("l2_eps", EPS)
    b.const_i64("axis_3", [3])
    b.const_i64("gva_expand", [1, 1, 1, GDN_HV // GDN_HK, 1])
    b.const_i64("shape_packed_v_heads", [0, 0, GDN_HV * GDN_DK])

    def l2norm_repeat(t, tag):
        t4 = b.op("Reshape", [t, "shape_qk_heads"], name=f"{tag}_reshape")
        ss = b.op("ReduceSum", [b.op("Mul", [t4, t4], name=f"{tag}_square"), "axes_last"], keepdims=1,
                  name=f"{tag}_sumsq")
        n = b.op("Sqrt", [b.op("Add", [ss, "l2_eps"], name=f"{tag}_add_eps")], name=f"{tag}_sqrt")
        tn = b.op("Div", [t4, n], name=f"{tag}_l2norm")
        # GVA: key head i feeds value heads 2i, 2i+1
        u = b.op("Unsqueeze", [tn, "axis_3"], name=f"{tag}_unsqueeze")
        e = b.op("Expand", [u, "gva_expand"], name=f"{tag}_expand")
        return b.op("Reshape", [e, "shape_packed_v_heads"], name=f"{tag}_repeat")

    qr = l2norm_repeat(qc, "q")
    kr = l2norm_repeat(kc, "k")

    beta = b.op("Sigmoid", [bb], name="beta_sigmoid")
    sp = b.op("Softplus", [b.op("Add", [a, "dt_bias"], name="a_add_dt_bias")], name="dt_softplus")
    g = b.op("Neg", [b.op("Mul", [b.op("Exp", ["A_log"], name="A_exp"), sp], name="g_mul")], name="g_neg")

    z4 = b.op("Reshape", [z, b.const_i64("shape_v_heads", [0, 0, GDN_HV, GDN_DV])], name="z_reshape")
    return qr, kr, vc, beta, g, z4


def _gdn_back(b, o_bshd, z4):
    """Gated RMSNorm (RMSNormalization * SiLU(z)) and out_proj."""
    n = b.op("RMSNormalization", [o_bshd, "norm_weight"], axis=-1, epsilon=EPS, name="gated_norm")
    silu = b.op("Mul", [z4, b.op("Sigmoid", [z4], name="z_sigmoid")], name="z_silu")
    gated = b.op("Mul", [n, silu], name="norm_gate_mul")
    flat = b.op("Reshape", [gated, b.const_i64("shape_flat", [0, 0, GDN_VALUE_DIM])], name="flatten")
    b.op("MatMul", [flat, "out_proj"], name="out_proj_matmul", outputs=["output"])


def build_gated_deltanet(seed=DEFAULT_SEED):
    b = _Builder()
    _add_weights(b, make_weights("qwen3_next_gated_deltanet", seed))
    q, k, v, beta, g, z4 = _gdn_front(b)
    o, _ = b.op("LinearAttention", [q, k, v, "", g, beta], q_num_heads=GDN_HV, kv_num_heads=GDN_HV,
             update_rule="gated_delta", name="gated_delta_rule", outputs=["core_attn_out", "recurrent_state"])
    o4 = b.op("Reshape", [o, "shape_v_heads"], name="core_attn_reshape")
    _gdn_back(b, o4, z4)
    return _model(b, "qwen3_next_gated_deltanet", [_hidden_input()], [_output()], LINEAR_OPSET,
                  "Qwen3-Next Gated DeltaNet layer (CausalConvWithState + LinearAttention)")


def _gdn_scan_body():
    """One token of the gated delta rule.

    state [B,Hv,Dk,Dv], q_t k_t [B,Hv,Dk], v_t [B,Hv,Dv], g_t beta_t [B,Hv]
      S  = exp(g_t) * S
      S += k_t ⊗ (beta_t * (v_t - Sᵀ k_t))
      o_t = Sᵀ q_t      (q_t is pre-scaled by 1/sqrt(Dk))
    """
    b = _Builder(prefix="step_")
    F = TensorProto.FLOAT

    def const(name, values):
        t = numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)
        b.nodes.append(helper.make_node("Constant", [], [name], value=t, name=f"step_{name}"))
        return name

    const("axes_23", [2, 3])
    const("axis2", [2])
    const("axis3", [3])
    e = b.op("Exp", ["g_t"], name="step_exp_g")
    s1 = b.op("Mul", ["state_in", b.op("Unsqueeze", [e, "axes_23"], name="step_g_unsqueeze")], name="step_decay")
    k_row = b.op("Unsqueeze", ["k_t", "axis2"], name="step_k_row")  # [B,H,1,Dk]
    kv_mem = b.op("MatMul", [k_row, s1], name="step_kv_mem")  # [B,H,1,Dv]
    v_row = b.op("Unsqueeze", ["v_t", "axis2"], name="step_v_row")
    diff = b.op("Sub", [v_row, kv_mem], name="step_delta")
    delta = b.op("Mul", [diff, b.op("Unsqueeze", ["beta_t", "axes_23"], name="step_beta_unsqueeze")],
                 name="step_beta_mul")
    k_col = b.op("Unsqueeze", ["k_t", "axis3"], name="step_k_col")  # [B,H,Dk,1]
    upd = b.op("MatMul", [k_col, delta], name="step_outer")  # [B,H,Dk,Dv]
    b.op("Add", [s1, upd], name="step_update", outputs=["state_out"])
    q_row = b.op("Unsqueeze", ["q_t", "axis2"], name="step_q_row")
    o_row = b.op("MatMul", [q_row, "state_out"], name="step_read")  # [B,H,1,Dv]
    b.op("Squeeze", [o_row, "axis2"], name="step_squeeze", outputs=["o_t"])

    H, K, V = GDN_HV, GDN_DK, GDN_DV
    inputs = [
        helper.make_tensor_value_info("state_in", F, ["batch", H, K, V]),
        helper.make_tensor_value_info("q_t", F, ["batch", H, K]),
        helper.make_tensor_value_info("k_t", F, ["batch", H, K]),
        helper.make_tensor_value_info("v_t", F, ["batch", H, V]),
        helper.make_tensor_value_info("g_t", F, ["batch", H]),
        helper.make_tensor_value_info("beta_t", F, ["batch", H]),
    ]
    outputs = [
        helper.make_tensor_value_info("state_out", F, ["batch", H, K, V]),
        helper.make_tensor_value_info("o_t", F, ["batch", H, V]),
    ]
    return helper.make_graph(b.nodes, "gated_delta_step", inputs, outputs)


def build_gated_deltanet_decomposed(seed=DEFAULT_SEED):
    b = _Builder()
    _add_weights(b, make_weights("qwen3_next_gated_deltanet", seed))
    q, k, v, beta, g, z4 = _gdn_front(b)
    b.const_i64("shape_qk_v_heads", [0, 0, GDN_HV, GDN_DK])
    q4 = b.op("Reshape", [q, "shape_qk_v_heads"], name="q_heads")
    qs = b.op("Mul", [q4, b.const_f32("q_scale", 1.0 / math.sqrt(GDN_DK))], name="q_scale_mul")
    k4 = b.op("Reshape", [k, "shape_qk_v_heads"], name="k_heads")
    v4 = b.op("Reshape", [v, "shape_v_heads"], name="v_heads")
    # zero initial state [B, Hv, Dk, Dv]
    bsz = b.op("Shape", ["hidden_states"], start=0, end=1, name="state_batch")
    st_shape = b.op("Concat", [bsz, b.const_i64("state_tail", [GDN_HV, GDN_DK, GDN_DV])], axis=0,
                    name="state_shape")
    s0 = b.op("ConstantOfShape", [st_shape], value=helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]),
              name="state_zeros")
    # time-major scan inputs: [S, B, ...]
    tm4 = lambda t, tag: b.op("Transpose", [t], perm=[1, 0, 2, 3], name=f"{tag}_time_major")  # noqa: E731
    tm3 = lambda t, tag: b.op("Transpose", [t], perm=[1, 0, 2], name=f"{tag}_time_major")  # noqa: E731
    _, o = b.op("Scan", [s0, tm4(qs, "q"), tm4(k4, "k"), tm4(v4, "v"), tm3(g, "g"), tm3(beta, "beta")],
                name="gated_delta_scan", outputs=["recurrent_state", "core_attn_out_time_major"],
                body=_gdn_scan_body(), num_scan_inputs=5)
    o = b.op("Transpose", [o], perm=[1, 0, 2, 3], name="core_attn_batch_major")  # [B,S,Hv,Dv]
    _gdn_back(b, o, z4)
    return _model(b, "qwen3_next_gated_deltanet_decomposed", [_hidden_input()], [_output()], LINEAR_OPSET,
                  "Qwen3-Next Gated DeltaNet layer, recurrence as a Scan (no LinearAttention op)")


BUILDERS = {
    "qwen3_next_attention": build_attention,
    "qwen3_next_attention_decomposed": build_attention_decomposed,
    "qwen3_next_gated_deltanet": build_gated_deltanet,
    "qwen3_next_gated_deltanet_decomposed": build_gated_deltanet_decomposed,
}


def build(model_name, seed=DEFAULT_SEED):
    """The ModelProto of one example model."""
    return BUILDERS[model_name](seed)


def write_models(out_dir, seed=DEFAULT_SEED, names=MODEL_NAMES):
    """Write the models into out_dir; returns {name: path}."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for name in names:
        path = os.path.join(out_dir, f"{name}.onnx")
        onnx.save(build(name, seed), path)
        paths[name] = path
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", help="directory to write the .onnx files into")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--only", choices=MODEL_NAMES, action="append", help="build only these models")
    args = p.parse_args(argv)
    for name, path in write_models(args.out_dir, args.seed, tuple(args.only or MODEL_NAMES)).items():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

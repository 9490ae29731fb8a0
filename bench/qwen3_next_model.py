"""A whole Qwen3-Next-style model for the benchmarks: N decoder layers (Gated DeltaNet
and gated softmax attention, 3:1 by default), each `x += mixer(RMSNorm(x))`,
`x += MLP(RMSNorm(x))` with a SwiGLU MLP, then a final RMSNorm.

`build_onnx(cfg, weights)` writes it with the fused ONNX ops (Attention-24,
RotaryEmbedding-23, RMSNormalization-23, CausalConvWithState-27 and
LinearAttention-27: what an exporter that maps the DeltaNet core to ONNX writes);
`TorchModel(cfg, weights)` is the same function in PyTorch eager (its CPU SDPA, the
chunked gated delta rule as transformers runs it on a CPU); both read the same weights.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 27
EPS = 1e-6


@dataclass
class Config:
    hidden: int = 2048
    layers: str = "LLLA"  # L = Gated DeltaNet, A = gated attention
    mlp: int = 5632
    attn_hq: int = 16
    attn_hkv: int = 2
    attn_d: int = 128
    rot: int = 64  # partial rotary: first `rot` channels
    gdn_hk: int = 16
    gdn_hv: int = 32
    gdn_dk: int = 128
    gdn_dv: int = 128
    conv_k: int = 4
    max_pos: int = 4096


REALISTIC = Config()
TINY = Config(hidden=256, layers="LLLA", mlp=512, attn_hq=4, attn_hkv=2, attn_d=64, rot=32,
              gdn_hk=2, gdn_hv=4, gdn_dk=64, gdn_dv=64)


def make_weights(cfg: Config, seed: int = 0) -> Dict[str, np.ndarray]:
    r = np.random.default_rng(seed)

    def dense(i, o):
        return (r.standard_normal((i, o)) / math.sqrt(i)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * r.standard_normal(n)).astype(np.float32)

    w = {}
    inv = 1.0 / (10000.0 ** (np.arange(0, cfg.rot, 2) / cfg.rot))
    ang = np.arange(cfg.max_pos)[:, None] * inv[None, :]
    w["cos_cache"], w["sin_cache"] = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    H = cfg.hidden
    for i, kind in enumerate(cfg.layers):
        p = f"l{i}."
        w[p + "in_norm"], w[p + "post_norm"] = norm(H), norm(H)
        w[p + "mlp_gate"], w[p + "mlp_up"] = dense(H, cfg.mlp), dense(H, cfg.mlp)
        w[p + "mlp_down"] = dense(cfg.mlp, H)
        if kind == "A":
            w[p + "q_proj"] = dense(H, cfg.attn_hq * 2 * cfg.attn_d)  # [query | gate] per head
            w[p + "k_proj"] = dense(H, cfg.attn_hkv * cfg.attn_d)
            w[p + "v_proj"] = dense(H, cfg.attn_hkv * cfg.attn_d)
            w[p + "o_proj"] = dense(cfg.attn_hq * cfg.attn_d, H)
            w[p + "q_norm"], w[p + "k_norm"] = norm(cfg.attn_d), norm(cfg.attn_d)
        else:
            kd, vd = cfg.gdn_hk * cfg.gdn_dk, cfg.gdn_hv * cfg.gdn_dv
            w[p + "q_proj"], w[p + "k_proj"] = dense(H, kd), dense(H, kd)
            w[p + "v_proj"], w[p + "z_proj"] = dense(H, vd), dense(H, vd)
            w[p + "b_proj"], w[p + "a_proj"] = dense(H, cfg.gdn_hv), dense(H, cfg.gdn_hv)
            w[p + "conv_weight"] = (0.5 * r.standard_normal((2 * kd + vd, 1, cfg.conv_k))).astype(np.float32)
            w[p + "A_log"] = np.log(r.uniform(0.1, 0.5, cfg.gdn_hv)).astype(np.float32)
            w[p + "dt_bias"] = (-1.0 + 0.1 * r.standard_normal(cfg.gdn_hv)).astype(np.float32)
            w[p + "norm_weight"] = norm(cfg.gdn_dv)
            w[p + "out_proj"] = dense(vd, H)
    w["final_norm"] = norm(H)
    return w


class _Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, name, values, dtype=np.int64):
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, n_out=1, **attrs):
        self.n += 1
        name = f"{op_type}_{self.n}"
        outs = [f"{name}_o{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs


def _attention(g: _Graph, cfg: Config, p: str, x: str) -> str:
    D, Hq, Hkv = cfg.attn_d, cfg.attn_hq, cfg.attn_hkv
    qg = g.op("Reshape", [g.op("MatMul", [x, p + "q_proj"]), g.const(p + "s_qg", [0, 0, Hq, 2 * D])])
    q, gate = g.op("Split", [qg, g.const(p + "split_qg", [D, D])], n_out=2, axis=-1)
    k = g.op("Reshape", [g.op("MatMul", [x, p + "k_proj"]), g.const(p + "s_kv", [0, 0, Hkv, D])])
    v = g.op("Reshape", [g.op("MatMul", [x, p + "v_proj"]), p + "s_kv"])
    q = g.op("Transpose", [g.op("RMSNormalization", [q, p + "q_norm"], axis=-1, epsilon=EPS)],
             perm=[0, 2, 1, 3])
    k = g.op("Transpose", [g.op("RMSNormalization", [k, p + "k_norm"], axis=-1, epsilon=EPS)],
             perm=[0, 2, 1, 3])
    v = g.op("Transpose", [v], perm=[0, 2, 1, 3])
    q = g.op("RotaryEmbedding", [q, "cos_cache", "sin_cache", "position_ids"],
             rotary_embedding_dim=cfg.rot, interleaved=0)
    k = g.op("RotaryEmbedding", [k, "cos_cache", "sin_cache", "position_ids"],
             rotary_embedding_dim=cfg.rot, interleaved=0)
    o = g.op("Transpose", [g.op("Attention", [q, k, v], is_causal=1)], perm=[0, 2, 1, 3])
    o = g.op("Mul", [o, g.op("Sigmoid", [gate])])
    o = g.op("Reshape", [o, g.const(p + "s_flat", [0, 0, Hq * D])])
    return g.op("MatMul", [o, p + "o_proj"])


def _gated_deltanet(g: _Graph, cfg: Config, p: str, x: str) -> str:
    Hk, Hv, Dk, Dv = cfg.gdn_hk, cfg.gdn_hv, cfg.gdn_dk, cfg.gdn_dv
    kd, vd = Hk * Dk, Hv * Dv
    q, k, v, z, bb, a = (g.op("MatMul", [x, p + n]) for n in
                         ("q_proj", "k_proj", "v_proj", "z_proj", "b_proj", "a_proj"))
    qkv = g.op("Transpose", [g.op("Concat", [q, k, v], axis=-1)], perm=[0, 2, 1])
    conv, _ = g.op("CausalConvWithState", [qkv, p + "conv_weight"], n_out=2, activation="silu")
    qc, kc, vc = g.op("Split", [g.op("Transpose", [conv], perm=[0, 2, 1]),
                                g.const(p + "split_qkv", [kd, kd, vd])], n_out=3, axis=-1)

    def l2norm_repeat(t):
        t4 = g.op("Reshape", [t, g.const(p + f"s_{t}", [0, 0, Hk, Dk])])
        ss = g.op("ReduceSum", [g.op("Mul", [t4, t4]), g.const(p + f"ax_{t}", [-1])], keepdims=1)
        n = g.op("Sqrt", [g.op("Add", [ss, g.const(p + f"eps_{t}", EPS, np.float32)])])
        u = g.op("Unsqueeze", [g.op("Div", [t4, n]), g.const(p + f"u_{t}", [3])])
        e = g.op("Expand", [u, g.const(p + f"e_{t}", [1, 1, 1, Hv // Hk, 1])])
        return g.op("Reshape", [e, g.const(p + f"r_{t}", [0, 0, Hv * Dk])])

    qr, kr = l2norm_repeat(qc), l2norm_repeat(kc)
    beta = g.op("Sigmoid", [bb])
    sp = g.op("Softplus", [g.op("Add", [a, p + "dt_bias"])])
    decay = g.op("Neg", [g.op("Mul", [g.op("Exp", [p + "A_log"]), sp])])
    o, _ = g.op("LinearAttention", [qr, kr, vc, "", decay, beta], n_out=2, q_num_heads=Hv,
                kv_num_heads=Hv, update_rule="gated_delta")
    o4 = g.op("Reshape", [o, g.const(p + "s_vh", [0, 0, Hv, Dv])])
    z4 = g.op("Reshape", [z, p + "s_vh"])
    n = g.op("RMSNormalization", [o4, p + "norm_weight"], axis=-1, epsilon=EPS)
    gated = g.op("Mul", [n, g.op("Mul", [z4, g.op("Sigmoid", [z4])])])
    return g.op("MatMul", [g.op("Reshape", [gated, g.const(p + "s_flat", [0, 0, vd])]), p + "out_proj"])


def build_onnx(cfg: Config, w: Dict[str, np.ndarray]):
    g = _Graph()
    for k, v in w.items():
        g.inits.append(numpy_helper.from_array(v, k))
    x = "hidden_states"
    for i, kind in enumerate(cfg.layers):
        p = f"l{i}."
        h = g.op("RMSNormalization", [x, p + "in_norm"], axis=-1, epsilon=EPS)
        mix = _attention(g, cfg, p, h) if kind == "A" else _gated_deltanet(g, cfg, p, h)
        x = g.op("Add", [x, mix])
        h = g.op("RMSNormalization", [x, p + "post_norm"], axis=-1, epsilon=EPS)
        gate = g.op("MatMul", [h, p + "mlp_gate"])
        up = g.op("MatMul", [h, p + "mlp_up"])
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
        x = g.op("Add", [x, g.op("MatMul", [act, p + "mlp_down"])])
    g.nodes.append(helper.make_node("RMSNormalization", [x, "final_norm"], ["output"], axis=-1,
                                    epsilon=EPS, name="final_norm_node"))
    inputs = [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT,
                                            ["batch", "seq", cfg.hidden])]
    if "A" in cfg.layers:
        inputs.append(helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"]))
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "seq", cfg.hidden])
    graph = helper.make_graph(g.nodes, "qwen3_next_" + cfg.layers, inputs, [out], initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="gatec-bench")
    model.ir_version = 10
    return model


class TorchModel:
    """The same model in PyTorch eager, on the same weights."""

    def __init__(self, torch, cfg: Config, w: Dict[str, np.ndarray], chunked_gated_delta):
        self.torch, self.cfg, self.gd = torch, cfg, chunked_gated_delta
        self.w = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in w.items()}

    def _rms(self, x, w):
        t = self.torch
        return x * t.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w

    def _rope(self, x, cos, sin):
        r = self.cfg.rot
        h = r // 2
        x1, x2, rest = x[..., :h], x[..., h:r], x[..., r:]
        return self.torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], dim=-1)

    def _attention(self, p, x, pos):
        t, w, c = self.torch, self.w, self.cfg
        B, S, _ = x.shape
        D = c.attn_d
        qg = (x @ w[p + "q_proj"]).view(B, S, c.attn_hq, 2 * D)
        q, gate = qg[..., :D], qg[..., D:]
        k = (x @ w[p + "k_proj"]).view(B, S, c.attn_hkv, D)
        v = (x @ w[p + "v_proj"]).view(B, S, c.attn_hkv, D)
        q = self._rms(q, w[p + "q_norm"]).transpose(1, 2)
        k = self._rms(k, w[p + "k_norm"]).transpose(1, 2)
        v = v.transpose(1, 2)
        cos, sin = w["cos_cache"][pos][:, None], w["sin_cache"][pos][:, None]
        q, k = self._rope(q, cos, sin), self._rope(k, cos, sin)
        o = t.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        o = o.transpose(1, 2) * t.sigmoid(gate)
        return o.reshape(B, S, c.attn_hq * D) @ w[p + "o_proj"]

    def _gated_deltanet(self, p, x):
        t, w, c = self.torch, self.w, self.cfg
        F = t.nn.functional
        B, S, _ = x.shape
        Hk, Hv, Dk, Dv = c.gdn_hk, c.gdn_hv, c.gdn_dk, c.gdn_dv
        kd = Hk * Dk
        qkv = t.cat([x @ w[p + "q_proj"], x @ w[p + "k_proj"], x @ w[p + "v_proj"]], -1)
        conv_w = w[p + "conv_weight"]
        qkv = F.silu(F.conv1d(qkv.transpose(1, 2), conv_w, padding=c.conv_k - 1,
                              groups=conv_w.shape[0])[..., :S]).transpose(1, 2)
        q, k, v = qkv[..., :kd], qkv[..., kd:2 * kd], qkv[..., 2 * kd:]
        l2 = lambda u: u / t.sqrt((u * u).sum(-1, keepdim=True) + EPS)
        q = l2(q.reshape(B, S, Hk, Dk)).repeat_interleave(Hv // Hk, dim=2).transpose(1, 2)
        k = l2(k.reshape(B, S, Hk, Dk)).repeat_interleave(Hv // Hk, dim=2).transpose(1, 2)
        v = v.reshape(B, S, Hv, Dv).transpose(1, 2)
        beta = t.sigmoid(x @ w[p + "b_proj"]).transpose(1, 2)
        g = (-t.exp(w[p + "A_log"]) * F.softplus(x @ w[p + "a_proj"] + w[p + "dt_bias"])).transpose(1, 2)
        o, _ = self.gd(t, q.contiguous(), k.contiguous(), v.contiguous(), g.contiguous(),
                       beta.contiguous())
        o = self._rms(o.transpose(1, 2), w[p + "norm_weight"])
        z = (x @ w[p + "z_proj"]).view(B, S, Hv, Dv)
        return (o * F.silu(z)).reshape(B, S, Hv * Dv) @ w[p + "out_proj"]

    def __call__(self, hidden_states, position_ids=None):
        t, w = self.torch, self.w
        F = t.nn.functional
        with t.inference_mode():
            x = t.from_numpy(hidden_states)
            pos = t.from_numpy(position_ids) if position_ids is not None else None
            for i, kind in enumerate(self.cfg.layers):
                p = f"l{i}."
                h = self._rms(x, w[p + "in_norm"])
                x = x + (self._attention(p, h, pos) if kind == "A" else self._gated_deltanet(p, h))
                h = self._rms(x, w[p + "post_norm"])
                x = x + (F.silu(h @ w[p + "mlp_gate"]) * (h @ w[p + "mlp_up"])) @ w[p + "mlp_down"]
            return self._rms(x, w["final_norm"]).numpy()

"""gate.linear_attention's output gate (out = o ⊙ act(gate): an output gate, or
SambaY's gated memory unit on a recurrence's readout): the chunked and
recurrent CPU kernels and the reference lowering against float64, for every
rule, GQA and the reverse direction; and the fold of gate.gate into the
epilogue, also through the reshape that lays [B, T, H, V] out as [B, T, H·V]
(ONNX LinearAttention-27 · Sigmoid), against ONNX Runtime's output."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import gatec
from gatec import reference as R
from kernel_util import (F32_TOL, LA_VARIANTS, assert_close, compile_module, have_compiler,
                         linear_attention_func, module_text, ort_session_or_none, run_gatec)

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

B, H, T, K, V = 2, 2, 130, 16, 24
# (variant, gate activation, reverse, GQA query heads)
CASES = [("linear", "sigmoid", False, 0), ("gated_s", "silu", False, 0),
         ("gated_c", "sigmoid", True, 0), ("delta", "silu", False, 0),
         ("gdelta_s", "sigmoid", False, 4), ("gdelta_c", "silu", True, 0)]


def case_func(i):
    name, act, rev, hq = CASES[i]
    rule, dkind, has_beta = LA_VARIANTS[name]
    Hq = hq or H
    decay = None if dkind is None else ((B, H, T) if dkind == "scalar" else (B, H, T, K))
    return linear_attention_func(f"la{i}", rule, (B, Hq, T, K), (B, H, T, K), (B, H, T, V),
                                 decay=decay, beta=(B, H, T) if has_beta else None,
                                 state=True, reverse=rev, gate=act)


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("lagate"))
    text = module_text(case_func(i) for i in range(len(CASES)))
    return {mode: compile_module(text, d, f"la_{mode}", kernels=kernels,
                                 extra_args=[f"--linear-attention={mode}"] if mode != "ref" else [])
            for mode, kernels in (("chunked", "fast"), ("recurrent", "fast"),
                                  ("ref", "reference"))}


@pytest.mark.parametrize("i", range(len(CASES)))
def test_gated_output(libs, i):
    name, act, rev, hq = CASES[i]
    rule, dkind, has_beta = LA_VARIANTS[name]
    Hq = hq or H
    rng = np.random.default_rng(i)
    q = rng.standard_normal((B, Hq, T, K)).astype(np.float32)
    k = rng.standard_normal((B, H, T, K)).astype(np.float32)
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.standard_normal((B, H, T, V)).astype(np.float32)
    feeds = [q, k, v]
    decay = beta = None
    if dkind:
        decay = -rng.uniform(0.01, 0.3, (B, H, T) if dkind == "scalar" else (B, H, T, K))
        feeds.append(decay.astype(np.float32))
    if has_beta:
        beta = rng.uniform(0.1, 0.9, (B, H, T))
        feeds.append(beta.astype(np.float32))
    s0 = rng.standard_normal((B, H, K, V)).astype(np.float32) * 0.1
    feeds.append(s0)
    Ho = Hq if hq else H
    g = rng.standard_normal((B, Ho, T, V)).astype(np.float32)
    feeds.append(g)
    f64 = lambda x: None if x is None else np.asarray(x, np.float64)
    o, s = R.linear_attention(f64(q), f64(k), f64(v), rule, decay=f64(decay), beta=f64(beta),
                              initial_state=f64(s0), reverse=rev)
    sg = 1 / (1 + np.exp(-g.astype(np.float64)))
    want = o * (g * sg if act == "silu" else sg)
    for mode, lib in libs.items():
        got, st = getattr(lib, f"la{i}")(*feeds)
        assert_close(got, want, F32_TOL, f"{name} {mode}: gated output vs float64")
        assert_close(st, s, F32_TOL, f"{name} {mode}: final state vs float64")


def la_gate_model(path, reshaped):
    """ONNX LinearAttention-27 (3-D [B, T, H·D] in and out) whose output is
    gated by Sigmoid(g): directly, or (reshaped) after a Reshape to
    [B, T, H, V] and back, as a model that splits heads would write it."""
    Hh, Kd, Vd = 2, 8, 8
    f = TensorProto.FLOAT
    nodes = [helper.make_node("LinearAttention", ["q", "k", "v", "", "decay"], ["o", "st"],
                              q_num_heads=Hh, kv_num_heads=Hh, update_rule="gated")]
    src = "o"
    if reshaped:
        nodes += [helper.make_node("Reshape", ["o", "s4"], ["o4"]),
                  helper.make_node("Reshape", ["o4", "s3"], ["o3"])]
        src = "o3"
    nodes += [helper.make_node("Sigmoid", ["g"], ["sg"]),
              helper.make_node("Mul", [src, "sg"], ["y"])]
    inits = [helper.make_tensor("s4", TensorProto.INT64, [4], [0, 0, Hh, Vd]),
             helper.make_tensor("s3", TensorProto.INT64, [3], [0, 0, Hh * Vd])] if reshaped else []
    io = lambda n, d: helper.make_tensor_value_info(n, f, ["b", "t", d])
    g = helper.make_graph(nodes, "la_gate",
                          [io("q", Hh * Kd), io("k", Hh * Kd), io("v", Hh * Vd),
                           io("decay", Hh), io("g", Hh * Vd)],
                          [io("y", Hh * Vd)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 27)])
    m.ir_version = 10
    onnx.save(m, path)
    return Hh, Kd, Vd


@pytest.mark.parametrize("reshaped", [False, True])
def test_gate_folds_into_linear_attention(tmp_path, reshaped):
    path = str(tmp_path / "la_gate.onnx")
    Hh, Kd, Vd = la_gate_model(path, reshaped)
    ir = run_gatec([path, "--compile-to=gate"])
    assert ir.returncode == 0, ir.stderr
    la = [ln for ln in ir.stdout.splitlines() if "= gate.linear_attention" in ln]
    assert len(la) == 1 and " gate(" in la[0], ir.stdout
    assert "= gate.gate" not in ir.stdout, ir.stdout
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libla_gate.so")))
    sess = ort_session_or_none(path)
    rng = np.random.default_rng(5)
    for Bn, Tn in [(1, 1), (2, 77)]:
        q = rng.standard_normal((Bn, Tn, Hh * Kd)).astype(np.float32)
        k = rng.standard_normal((Bn, Tn, Hh * Kd)).astype(np.float32) / 3
        v = rng.standard_normal((Bn, Tn, Hh * Vd)).astype(np.float32)
        d = -rng.uniform(0.01, 0.3, (Bn, Tn, Hh)).astype(np.float32)
        g = rng.standard_normal((Bn, Tn, Hh * Vd)).astype(np.float32)
        got = lib(q, k, v, d, g)
        got = got[0] if isinstance(got, tuple) else got
        h4 = lambda x, n: x.reshape(Bn, Tn, Hh, n).transpose(0, 2, 1, 3).astype(np.float64)
        o, _ = R.linear_attention(h4(q, Kd), h4(k, Kd), h4(v, Vd), "gated",
                                  decay=d.transpose(0, 2, 1).astype(np.float64),
                                  scale=1 / np.sqrt(Kd))
        o = o.transpose(0, 2, 1, 3).reshape(Bn, Tn, Hh * Vd)
        want = o / (1 + np.exp(-g.astype(np.float64)))
        assert_close(got, want, F32_TOL, f"T={Tn} vs float64")
        if sess is not None:
            (theirs,) = sess.run(None, {"q": q, "k": k, "v": v, "decay": d, "g": g})
            assert_close(got, theirs, F32_TOL, f"T={Tn} vs ONNX Runtime")

"""com.microsoft MoE and GatedAdd (what onnxruntime-genai's builder writes for
Qwen3.5-MoE): one node at a time against a float64 numpy reference of ONNX
Runtime's contrib-op semantics and against ONNX Runtime itself, on awkward
sizes (hidden 12, 5 experts, 1 / 7 / 65 tokens), every activation and SwiGLU
layout, both routing normalizations, weights as initializers (transposed at
compile time) and as graph inputs; bad attributes and shapes are rejected
with the node named."""
import numpy as np
import pytest

import gatec
from kernel_util import assert_close, have_compiler, ort_session_or_none, run_gatec, save_ms_model

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

H, E, INTER = 12, 5, 10


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def moe_reference(x, logits, w, k, act, fusion=0, normalize=0, alpha=1.0, beta=0.0,
                  limit=np.inf):
    """float64: each token's k best experts (ties: the higher, as ONNX Runtime
    picks them), softmax weights
    (normalize: rescaled to sum 1 over the k), act(x·W1ᵀ + b1)·W2ᵀ + b2."""
    x2 = x.reshape(-1, x.shape[-1]).astype(np.float64)
    lg = logits.astype(np.float64)
    probs = _softmax(lg)
    top = (lg.shape[1] - 1) - np.argsort(-lg[:, ::-1], axis=1, kind="stable")[:, :k]
    out = np.zeros_like(x2)
    f64 = {n: (v.astype(np.float64) if v is not None else None) for n, v in w.items()}
    for t in range(x2.shape[0]):
        wt = probs[t, top[t]]
        if normalize:
            wt = wt / wt.sum()
        for j, e in enumerate(top[t]):
            h = f64["w1"][e] @ x2[t] + (f64["b1"][e] if f64["b1"] is not None else 0)
            if act == "swiglu":
                if fusion == 1:
                    g, lin = h[0::2], h[1::2]
                elif fusion == 2:
                    g, lin = h[:INTER], h[INTER:]
                else:
                    g = h
                    lin = f64["w3"][e] @ x2[t] + (f64["b3"][e] if f64["b3"] is not None else 0)
                g = np.minimum(g, limit)
                lin = np.clip(lin, -limit, limit)
                a = g / (1 + np.exp(-alpha * g)) * (lin + beta)
            elif act == "relu":
                a = np.maximum(h, 0)
            elif act == "gelu":  # ORT's MoE: the tanh form
                a = 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h**3)))
            elif act == "silu":
                a = h / (1 + np.exp(-h))
            else:
                a = h
            y = f64["w2"][e] @ a + (f64["b2"][e] if f64["b2"] is not None else 0)
            out[t] += wt[j] * y
    return out.reshape(x.shape)


def _weights(rng, act, fusion, bias=True):
    f = 2 * INTER if act == "swiglu" and fusion else INTER
    r = lambda *s: (rng.standard_normal(s) * 0.3).astype(np.float32)
    w = {"w1": r(E, f, H), "b1": r(E, f) if bias else None, "w2": r(E, H, INTER),
         "b2": r(E, H) if bias else None, "w3": None, "b3": None}
    if act == "swiglu" and fusion == 0:
        w["w3"], w["b3"] = r(E, INTER, H), (r(E, INTER) if bias else None)
    return w


def _model(tmp_path, w, attrs, x_shape, as_inputs=False, dtype=np.float32):
    import onnx
    from onnx import helper, numpy_helper

    et = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    names = ["x", "router"]
    ins = [helper.make_tensor_value_info("x", et, x_shape),
           helper.make_tensor_value_info("router", et, ["n", E])]
    inits = []
    for key in ("w1", "b1", "w2", "b2", "w3", "b3"):
        v = w[key]
        if v is None:
            names.append("")
            continue
        names.append(key)
        if as_inputs:
            ins.append(helper.make_tensor_value_info(key, et, list(v.shape)))
        else:
            inits.append(numpy_helper.from_array(v.astype(dtype), key))
    while names[-1] == "":
        names.pop()
    node = helper.make_node("MoE", names, ["y"], domain="com.microsoft", **attrs)
    return save_ms_model(tmp_path / "moe.onnx", [node], ins,
                         [helper.make_tensor_value_info("y", et, None)], inits)


def _ort(path):
    # ORT 1.32's CPU MoE runs interleaved SwiGLU only (swiglu_fusion=1)
    return ort_session_or_none(path, ["only supports interleaved SwiGLU"])


CASES = [  # (activation, swiglu_fusion, normalize, k, extra attributes)
    ("swiglu", 1, 1, 2, {}),
    ("swiglu", 2, 0, 3, {}),
    ("swiglu", 0, 1, 1, {}),
    ("swiglu", 1, 0, 2, {"activation_alpha": 1.702, "activation_beta": 1.0,
                         "swiglu_limit": 0.5}),
    ("relu", 0, 0, 1, {}),
    ("gelu", 0, 1, 2, {}),
    ("silu", 0, 0, E, {}),
    ("identity", 0, 1, 4, {}),
]


@pytest.mark.parametrize("act,fusion,normalize,k,extra", CASES,
                         ids=[f"{c[0]}-f{c[1]}-n{c[2]}-k{c[3]}{'-ab' if c[4] else ''}"
                              for c in CASES])
def test_moe_matches_reference_and_onnxruntime(tmp_path, act, fusion, normalize, k, extra):
    rng = np.random.default_rng(hash((act, fusion, normalize, k)) % 2**32)
    w = _weights(rng, act, fusion, bias=act != "relu")
    attrs = {"k": k, "activation_type": act, "normalize_routing_weights": normalize,
             "swiglu_fusion": fusion, **extra}
    path = _model(tmp_path, w, attrs, ["n", H])
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libmoe.so")))
    sess = _ort(path)
    ref_kw = {kk: v for kk, v in (("alpha", extra.get("activation_alpha", 1.0)),
                                  ("beta", extra.get("activation_beta", 0.0)),
                                  ("limit", extra.get("swiglu_limit", np.inf)))}
    for n in (1, 7, 65):
        x = rng.standard_normal((n, H)).astype(np.float32)
        logits = rng.standard_normal((n, E)).astype(np.float32)
        if n == 7:
            logits[3, 1] = logits[3, 2] = logits[3].max() + 1  # a tie: expert 2 first
        (y,) = lib(x, logits)
        want = moe_reference(x, logits, w, k, act, fusion, normalize, **ref_kw)
        assert_close(y, want, 2e-5, f"{act} fusion {fusion} with {n} tokens vs float64")
        if sess is not None:
            assert_close(y, sess.run(None, {"x": x, "router": logits})[0], 2e-5,
                         f"{act} fusion {fusion} with {n} tokens vs ONNX Runtime")


def test_moe_weights_as_graph_inputs(tmp_path):
    """Weights passed at run time (transposed there, not at compile time)."""
    rng = np.random.default_rng(5)
    w = _weights(rng, "swiglu", 2)
    attrs = {"k": 2, "activation_type": "swiglu", "normalize_routing_weights": 1,
             "swiglu_fusion": 2}
    path = _model(tmp_path, w, attrs, ["n", H], as_inputs=True)
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libmoe_in.so")))
    for n in (1, 13):
        x = rng.standard_normal((n, H)).astype(np.float32)
        logits = rng.standard_normal((n, E)).astype(np.float32)
        (y,) = lib(x, logits, w["w1"], w["b1"], w["w2"], w["b2"])
        assert_close(y, moe_reference(x, logits, w, 2, "swiglu", 2, 1), 2e-5, f"{n} tokens")


def test_moe_3d_input_with_router_as_the_builder_writes_it(tmp_path):
    """[batch, sequence, hidden] input; router logits = Reshape(x·Wr, [-1, E])."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(6)
    w = _weights(rng, "swiglu", 1)
    wr = rng.standard_normal((H, E)).astype(np.float32)
    attrs = {"k": 2, "activation_type": "swiglu", "normalize_routing_weights": 1,
             "swiglu_fusion": 1}
    inits = [numpy_helper.from_array(v, kk) for kk, v in w.items() if v is not None]
    inits += [numpy_helper.from_array(wr, "wr"),
              numpy_helper.from_array(np.array([-1, E], np.int64), "shape")]
    nodes = [helper.make_node("MatMul", ["x", "wr"], ["r3"]),
             helper.make_node("Reshape", ["r3", "shape"], ["router"]),
             helper.make_node("MoE", ["x", "router", "w1", "b1", "w2", "b2"], ["y"],
                              domain="com.microsoft", **attrs)]
    F = TensorProto.FLOAT
    path = save_ms_model(tmp_path / "moe3.onnx", nodes,
                         [helper.make_tensor_value_info("x", F, ["b", "t", H])],
                         [helper.make_tensor_value_info("y", F, None)], inits)
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libmoe3.so")))
    sess = _ort(path)
    for b, t in ((1, 1), (2, 9)):
        x = rng.standard_normal((b, t, H)).astype(np.float32)
        (y,) = lib(x)
        assert y.shape == x.shape
        want = moe_reference(x, (x.reshape(-1, H) @ wr), w, 2, "swiglu", 1, 1)
        assert_close(y, want, 2e-5, f"[{b}, {t}, {H}] vs float64")
        if sess is not None:
            assert_close(y, sess.run(None, {"x": x})[0], 2e-5, f"[{b}, {t}, {H}] vs ORT")


def test_moe_f16(tmp_path):
    """An f16 model: computed in f32, rounded once at the end."""
    rng = np.random.default_rng(7)
    w = _weights(rng, "swiglu", 1)
    w16 = {kk: (v.astype(np.float16) if v is not None else None) for kk, v in w.items()}
    attrs = {"k": 2, "activation_type": "swiglu", "normalize_routing_weights": 1,
             "swiglu_fusion": 1}
    path = _model(tmp_path, w16, attrs, ["n", H], dtype=np.float16)
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libmoe16.so")))
    x = rng.standard_normal((7, H)).astype(np.float16)
    logits = rng.standard_normal((7, E)).astype(np.float16)
    (y,) = lib(x, logits)
    assert y.dtype == np.float16
    want = moe_reference(x, logits, w16, 2, "swiglu", 1, 1)
    np.testing.assert_allclose(y.astype(np.float64), want, rtol=1e-2, atol=2e-3)


@pytest.mark.parametrize("attrs,shape_fix,msg", [
    ({"use_sparse_mixer": 1}, None, "use_sparse_mixer=1 is not supported"),
    ({"k": 6}, None, "larger than the number of experts"),
    ({"activation_type": "relu2"}, None, "activation_type 'relu2' is not supported"),
    ({"activation_type": "silu", "swiglu_fusion": 1}, None, "needs activation_type 'swiglu'"),
    ({}, "w1", "fc1_experts_weights must be"),
])
def test_moe_errors(tmp_path, attrs, shape_fix, msg):
    rng = np.random.default_rng(9)
    w = _weights(rng, "swiglu", 1)
    if shape_fix:
        w[shape_fix] = w[shape_fix][:, :-1]
    base = {"k": 2, "activation_type": "swiglu", "swiglu_fusion": 1}
    path = _model(tmp_path, w, {**base, **attrs}, ["n", H])
    proc = run_gatec([path, "--compile-to=gate"])
    assert proc.returncode != 0
    assert "MoE" in proc.stderr and msg in proc.stderr, proc.stderr


def _gated_add_model(tmp_path, gate_shape, extra_input=False):
    import onnx
    from onnx import TensorProto, helper

    F = TensorProto.FLOAT
    ins = [helper.make_tensor_value_info("x", F, [2, "t", 6]),
           helper.make_tensor_value_info("y", F, [2, "t", 6]),
           helper.make_tensor_value_info("g", F, gate_shape)]
    names = ["x", "y", "g"]
    if extra_input:
        ins.append(helper.make_tensor_value_info("gw", F, [6, 1]))
        names.append("gw")
    node = helper.make_node("GatedAdd", names, ["z"], domain="com.microsoft")
    return save_ms_model(tmp_path / "gated_add.onnx", [node], ins,
                         [helper.make_tensor_value_info("z", F, None)])


def test_gated_add_matches_onnxruntime(tmp_path):
    path = _gated_add_model(tmp_path, [2, "t", 1])
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libga.so")))
    sess = _ort(path)
    rng = np.random.default_rng(10)
    for t in (1, 5):
        x, y = (rng.standard_normal((2, t, 6)).astype(np.float32) for _ in range(2))
        g = rng.uniform(0, 1, (2, t, 1)).astype(np.float32)
        (z,) = lib(x, y, g)
        assert_close(z, x.astype(np.float64) + y * g.astype(np.float64), 1e-6, f"t={t}")
        if sess is not None:
            assert_close(z, sess.run(None, {"x": x, "y": y, "g": g})[0], 1e-6, f"t={t} vs ORT")


@pytest.mark.parametrize("gate_shape,extra,msg", [
    ([2, "t", 6], False, "gate must be"),
    ([2, "t", 1], True, "projected mode (gate_weight) is not supported"),
])
def test_gated_add_errors(tmp_path, gate_shape, extra, msg):
    proc = run_gatec([_gated_add_model(tmp_path, gate_shape, extra), "--compile-to=gate"])
    assert proc.returncode != 0
    assert "GatedAdd" in proc.stderr and msg in proc.stderr, proc.stderr


def test_moe_empty_input_and_nan_router(tmp_path):
    """0 tokens give an empty output; a NaN router row (its ranking is
    undefined) gives NaN for that token, never an out-of-range expert."""
    rng = np.random.default_rng(11)
    w = _weights(rng, "swiglu", 1)
    attrs = {"k": 2, "activation_type": "swiglu", "swiglu_fusion": 1,
             "normalize_routing_weights": 1}
    lib = gatec.load(gatec.compile(_model(tmp_path, w, attrs, ["n", H]),
                                   str(tmp_path / "libmoe0.so")))
    (y,) = lib(np.zeros((0, H), np.float32), np.zeros((0, E), np.float32))
    assert y.shape == (0, H)
    x = rng.standard_normal((3, H)).astype(np.float32)
    logits = rng.standard_normal((3, E)).astype(np.float32)
    logits[1] = np.nan
    (y,) = lib(x, logits)
    assert np.all(np.isnan(y[1]))
    want = moe_reference(x[[0, 2]], logits[[0, 2]], w, 2, "swiglu", 1, 1)
    assert_close(y[[0, 2]], want, 2e-5, "the other tokens")

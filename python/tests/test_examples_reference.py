"""The example models of examples/make_models.py, run by ONNX's reference evaluator and by
onnxruntime, against the float64 numpy references of examples/models_reference.py."""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import pytest

from kernel_util import ort_unsupported

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
_EXAMPLES = os.path.join(_ROOT, "examples")
if _EXAMPLES not in sys.path:
    sys.path.insert(0, _EXAMPLES)

import make_models as mm  # noqa: E402
import models_reference as mref  # noqa: E402

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover
    ort = None

SHAPES = [(2, 5), (1, 1), (2, 67)]  # (batch, seq): prefill, single token, > 64 tokens
PEERS = ["onnx_reference", "onnxruntime"]
TOL = dict(rtol=1e-3, atol=1e-4)


@pytest.fixture(scope="module")
def model_paths(tmp_path_factory):
    out = tmp_path_factory.mktemp("example_models")
    return mm.write_models(str(out))


def _inputs(model_name, batch, seq, seed=0):
    r = np.random.default_rng(seed + 1000 * batch + seq)
    feeds = {"hidden_states": r.standard_normal((batch, seq, mm.HIDDEN)).astype(np.float32)}
    if model_name.startswith("qwen3_next_attention"):
        # batch b continues a sequence that started 3*b tokens earlier
        feeds["position_ids"] = (np.arange(seq)[None, :] + 3 * np.arange(batch)[:, None]).astype(np.int64)
    return feeds


def _run_peer(peer, path, feeds):
    model = onnx.load(path)
    names = [o.name for o in model.graph.output]
    if peer == "onnx_reference":
        from onnx.reference import ReferenceEvaluator

        try:
            sess = ReferenceEvaluator(model)
            outs = sess.run(None, feeds)
        except (NotImplementedError, KeyError) as e:
            pytest.skip(f"onnx.reference lacks an op of this model: {e}")
        except RuntimeError as e:
            if "not implemented" in str(e).lower():
                pytest.skip(f"onnx.reference cannot run this model: {e}")
            raise
    else:
        if ort is None:
            pytest.skip("onnxruntime not installed")
        try:
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        except Exception as e:
            if not ort_unsupported(e):
                raise
            pytest.skip(f"onnxruntime cannot load the model: {str(e).splitlines()[0][:200]}")
        outs = sess.run(None, feeds)
    return dict(zip(names, outs))


# --------------------------------------------------------------------------- #
# structure
# --------------------------------------------------------------------------- #
def _ops(model):
    return [n.op_type for n in model.graph.node]


def _node(model, op_type):
    nodes = [n for n in model.graph.node if n.op_type == op_type]
    assert len(nodes) == 1, f"expected one {op_type}, found {len(nodes)}"
    return nodes[0]


def _attr(node, name):
    for a in node.attribute:
        if a.name == name:
            v = onnx.helper.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
    return None


def test_cli_writes_all_models(tmp_path):
    assert mm.main([str(tmp_path)]) == 0
    for name in mm.MODEL_NAMES:
        assert (tmp_path / f"{name}.onnx").is_file()


@pytest.mark.parametrize("name", mm.MODEL_NAMES)
def test_model_interface(model_paths, name):
    m = onnx.load(model_paths[name])
    opset = {o.domain: o.version for o in m.opset_import}
    assert opset[""] == (mm.ATTENTION_OPSET if "attention" in name else mm.LINEAR_OPSET)
    ins = {i.name: i for i in m.graph.input}
    hs = ins["hidden_states"].type.tensor_type
    assert hs.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_param or d.dim_value for d in hs.shape.dim] == ["batch", "seq", mm.HIDDEN]
    if "attention" in name:
        pos = ins["position_ids"].type.tensor_type
        assert pos.elem_type == onnx.TensorProto.INT64
        assert [d.dim_param for d in pos.shape.dim] == ["batch", "seq"]
    assert [o.name for o in m.graph.output] == ["output"]
    # all weights are initializers, nothing else is a graph input
    assert set(ins) == ({"hidden_states", "position_ids"} if "attention" in name else {"hidden_states"})


@pytest.mark.parametrize("name", mm.MODEL_NAMES)
def test_model_passes_checker(model_paths, name):
    m = onnx.load(model_paths[name])
    try:
        onnx.checker.check_model(m, full_check=True)
    except onnx.checker.ValidationError as e:
        if "No Op registered" in str(e) or "not registered" in str(e):
            pytest.skip(f"this onnx ({onnx.__version__}) does not know an op of the model")
        raise


def test_attention_model_ops(model_paths):
    m = onnx.load(model_paths["qwen3_next_attention"])
    ops = _ops(m)
    attn = _node(m, "Attention")
    assert _attr(attn, "is_causal") == 1
    assert ops.count("RMSNormalization") == 2
    assert ops.count("RotaryEmbedding") == 2
    for n in m.graph.node:
        if n.op_type == "RotaryEmbedding":
            assert _attr(n, "rotary_embedding_dim") == mm.ATTN_D // 2
            assert n.input[3] == "position_ids"
    assert "Split" in ops and "Sigmoid" in ops


def test_attention_decomposed_model_ops(model_paths):
    ops = set(_ops(onnx.load(model_paths["qwen3_next_attention_decomposed"])))
    assert not ops & {"Attention", "RMSNormalization", "RotaryEmbedding"}
    assert {"MatMul", "Transpose", "Softmax", "Trilu", "Where", "Expand", "Sigmoid", "Mul"} <= ops


def test_gated_deltanet_model_ops(model_paths):
    m = onnx.load(model_paths["qwen3_next_gated_deltanet"])
    conv = _node(m, "CausalConvWithState")
    assert _attr(conv, "activation") == "silu"
    w = {i.name: i for i in m.graph.initializer}[conv.input[1]]
    assert list(w.dims) == [mm.GDN_CONV_DIM, 1, 4]
    la = _node(m, "LinearAttention")
    assert _attr(la, "update_rule") == "gated_delta"
    assert _attr(la, "q_num_heads") == _attr(la, "kv_num_heads") == mm.GDN_HV
    assert {"RMSNormalization", "Softplus", "Sigmoid", "Exp", "Expand", "ReduceSum"} <= set(_ops(m))


def test_gated_deltanet_decomposed_model_ops(model_paths):
    m = onnx.load(model_paths["qwen3_next_gated_deltanet_decomposed"])
    ops = set(_ops(m))
    assert "LinearAttention" not in ops
    scan = _node(m, "Scan")
    assert _attr(scan, "num_scan_inputs") == 5
    body_ops = {n.op_type for n in _attr(scan, "body").node}
    assert {"Exp", "MatMul", "Sub", "Add", "Mul"} <= body_ops


# --------------------------------------------------------------------------- #
# numerics
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"b{s[0]}_s{s[1]}")
@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("name", mm.MODEL_NAMES)
def test_model_matches_numpy_reference(model_paths, name, peer, shape):
    feeds = _inputs(name, *shape)
    got = _run_peer(peer, model_paths[name], feeds)
    want = mref.reference_outputs(name, feeds)
    assert set(got) == set(want)
    for k, w in want.items():
        assert got[k].shape == w.shape
        assert np.all(np.isfinite(got[k]))
        np.testing.assert_allclose(got[k].astype(np.float64), w, err_msg=f"{name} {peer} {k}", **TOL)


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("base", ["qwen3_next_attention", "qwen3_next_gated_deltanet"])
def test_fused_and_decomposed_agree(model_paths, base, peer):
    feeds = _inputs(base, 2, 9, seed=7)
    a = _run_peer(peer, model_paths[base], feeds)["output"]
    b = _run_peer(peer, model_paths[base + "_decomposed"], feeds)["output"]
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_reference_is_causal_and_position_dependent():
    """Sanity of the numpy references themselves: later tokens do not change earlier
    outputs; the attention layer depends on position_ids (RoPE)."""
    for name in ("qwen3_next_attention", "qwen3_next_gated_deltanet"):
        f = _inputs(name, 1, 8)
        full = mref.reference_outputs(name, f)["output"]
        f_short = {k: v[:, :5] for k, v in f.items()}
        short = mref.reference_outputs(name, f_short)["output"]
        np.testing.assert_allclose(short, full[:, :5], rtol=1e-12, atol=1e-12)
    f = _inputs("qwen3_next_attention", 1, 4)
    a = mref.reference_outputs("qwen3_next_attention", f)["output"]
    # RoPE is relative: shifting every position by 5 leaves the scores unchanged (up to the
    # float32 rounding of the cos/sin caches) ...
    shifted = mref.reference_outputs("qwen3_next_attention", dict(f, position_ids=f["position_ids"] + 5))
    np.testing.assert_allclose(shifted["output"], a, rtol=1e-5, atol=1e-6)  # f32 caches
    # ... while spreading the positions apart changes them
    spread = mref.reference_outputs("qwen3_next_attention", dict(f, position_ids=f["position_ids"] * 7))
    assert not np.allclose(spread["output"][:, 1:], a[:, 1:])


def test_gated_deltanet_reference_gva_equals_repeat():
    """The reference uses linear_attention's GVA head map; repeating q/k to the value heads
    (as the models do) gives the same recurrence."""
    from gatec import reference as ref

    r = np.random.default_rng(3)
    B, T = 2, 6
    q = r.standard_normal((B, mm.GDN_HK, T, mm.GDN_DK))
    k = r.standard_normal((B, mm.GDN_HK, T, mm.GDN_DK)) / 4
    v = r.standard_normal((B, mm.GDN_HV, T, mm.GDN_DV))
    g = -r.random((B, mm.GDN_HV, T))
    beta = r.random((B, mm.GDN_HV, T))
    rep = mm.GDN_HV // mm.GDN_HK
    a = ref.linear_attention(q, k, v, "gated_delta", decay=g, beta=beta)
    b = ref.linear_attention(np.repeat(q, rep, 1), np.repeat(k, rep, 1), v, "gated_delta", decay=g, beta=beta)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12)

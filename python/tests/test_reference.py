"""Checks of gatec.reference against ONNX's conformance data, onnxruntime, the ONNX
reference evaluator, and algebraic properties of the ops."""

from __future__ import annotations

import glob
import math
import os

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper, TensorProto

from gatec import reference as ref
from kernel_util import ort_unsupported

CONFORMANCE_DIR = os.environ.get(
    "GATEC_ONNX_CONFORMANCE",
    os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "onnx-conformance")
    ),
)
if not os.path.isdir(CONFORMANCE_DIR):
    CONFORMANCE_DIR = "/work/shared/onnx-conformance"


def _conformance_folders():
    if not os.path.isdir(CONFORMANCE_DIR):
        return []
    return sorted(
        os.path.basename(d)
        for d in glob.glob(os.path.join(CONFORMANCE_DIR, "*"))
        if os.path.isdir(d) and not d.endswith("_expanded")
    )


FOLDERS = _conformance_folders()

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover
    ort = None


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def _read_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def _load_case(folder):
    d = os.path.join(CONFORMANCE_DIR, folder)
    model = onnx.load(os.path.join(d, "model.onnx"))
    data = os.path.join(d, "test_data_set_0")
    n_in = len(glob.glob(os.path.join(data, "input_*.pb")))
    n_out = len(glob.glob(os.path.join(data, "output_*.pb")))
    inputs = [_read_pb(os.path.join(data, f"input_{i}.pb")) for i in range(n_in)]
    outputs = [_read_pb(os.path.join(data, f"output_{i}.pb")) for i in range(n_out)]
    feeds = {vi.name: a for vi, a in zip(model.graph.input, inputs)}
    expected = {vi.name: a for vi, a in zip(model.graph.output, outputs)}
    return model, feeds, expected


def _attrs(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        out[a.name] = v
    return out


OP_WRAPPERS = {
    "Attention": ref.onnx_attention,
    "LinearAttention": ref.onnx_linear_attention,
    "CausalConvWithState": ref.onnx_causal_conv,
}


def _run_reference_node(node, values):
    """Run one ONNX node through the matching gatec.reference wrapper."""
    fn = OP_WRAPPERS[node.op_type]
    args = [values[name] if name else None for name in node.input]
    results = fn(*args, **_attrs(node))
    return {name: r for name, r in zip(node.output, results) if name}


def _tolerances(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return dict(rtol=1e-2, atol=1e-3)
    if dtype.name == "bfloat16" or dtype.itemsize < 2:
        return dict(rtol=5e-2, atol=1e-2)
    return dict(rtol=1e-3, atol=1e-6)


def _assert_close(actual, expected, name, tol=None):
    expected = np.asarray(expected)
    tol = tol or _tolerances(expected.dtype)
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64), expected.astype(np.float64), err_msg=name, **tol
    )


def _ort_masked_to_inf(a):
    """onnxruntime writes masked scores of qk_matmul_output (mode 2) as the lowest finite
    float instead of -inf; map them back so they compare with the ONNX definition."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = np.where(a <= np.finfo(a.dtype).min, -np.inf, a)
    return a


def _ort_session(model_or_bytes):
    if ort is None:
        pytest.skip("onnxruntime not installed")
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    try:
        return ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception as e:  # op or opset not supported by this onnxruntime
        if not ort_unsupported(e):
            raise
        pytest.skip(f"onnxruntime cannot load the model: {str(e).splitlines()[0][:200]}")


# --------------------------------------------------------------------------- #
# 1. ONNX conformance data
# --------------------------------------------------------------------------- #
def test_conformance_folders_found():
    assert FOLDERS, f"no conformance folders under {CONFORMANCE_DIR}"


@pytest.mark.parametrize("folder", FOLDERS)
def test_conformance(folder):
    model, feeds, expected = _load_case(folder)
    assert len(model.graph.node) == 1, "conformance models hold one node"
    node = model.graph.node[0]
    got = _run_reference_node(node, feeds)
    for name, want in expected.items():
        assert name in got, f"reference produced no {name}"
        _assert_close(got[name], want, f"{folder}:{name}")


@pytest.mark.parametrize("folder", FOLDERS)
def test_conformance_vs_onnxruntime(folder):
    """onnxruntime (where it runs the op) on the conformance inputs vs the reference."""
    model, feeds, expected = _load_case(folder)
    node = model.graph.node[0]
    sess = _ort_session(model)
    names = [o.name for o in sess.get_outputs()]
    try:
        outs = sess.run(None, feeds)
    except Exception as e:
        if not ort_unsupported(e):
            raise
        pytest.skip(f"onnxruntime cannot run {node.op_type}: {str(e).splitlines()[0][:200]}")
    got = _run_reference_node(node, feeds)
    for name, o in zip(names, outs):
        _assert_close(got[name], _ort_masked_to_inf(o), f"{folder}:{name} (onnxruntime)", tol=dict(rtol=1e-3, atol=1e-5))


# --------------------------------------------------------------------------- #
# 2. Random cases against onnx.reference.ReferenceEvaluator and onnxruntime
# --------------------------------------------------------------------------- #
_ATTN_IN = ["Q", "K", "V", "attn_mask", "past_key", "past_value", "nonpad_kv_seqlen"]
_ATTN_OUT = ["Y", "present_key", "present_value", "qk_matmul_output"]


def _make_single_node_model(op, input_names, feeds, n_outputs, out_names, attrs, opset):
    """A one-node model; absent optional inputs are '' in the node's input list."""
    node_inputs = [n if n in feeds else "" for n in input_names]
    while node_inputs and node_inputs[-1] == "":
        node_inputs.pop()
    outs = out_names[:n_outputs]
    node = helper.make_node(op, node_inputs, outs, **attrs)
    g_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype), feeds[n].shape)
        for n in node_inputs if n
    ]
    # every output of these ops has the element type of the first input (float32 here)
    out_type = helper.np_dtype_to_tensor_dtype(feeds[input_names[0]].dtype)
    g_outputs = [helper.make_tensor_value_info(n, out_type, None) for n in outs if n]
    graph = helper.make_graph([node], "g", g_inputs, g_outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def _run_evaluator(model, feeds):
    from onnx.reference import ReferenceEvaluator

    names = [o.name for o in model.graph.output]
    res = ReferenceEvaluator(model).run(None, {k: v for k, v in feeds.items()})
    return dict(zip(names, res))


def _rng(seed):
    return np.random.default_rng(seed)


ATTN_CASES = {
    # name: (B, Hq, Hkv, Sq, Skv, D, Dv, past, three_d, mask_kind, attrs, nonpad)
    "mha": (2, 2, 2, 5, 7, 8, 8, 0, False, None, {}, False),
    "gqa4_causal": (1, 8, 2, 6, 6, 8, 8, 0, False, None, {"is_causal": 1}, False),
    "mqa_3d": (2, 4, 1, 3, 5, 4, 6, 0, True, None, {}, False),
    "bool_mask_2d": (2, 2, 1, 4, 6, 8, 8, 0, False, "bool2d", {}, False),
    "bool_mask_causal": (2, 2, 2, 4, 6, 8, 8, 0, False, "bool4d", {"is_causal": 1}, False),
    "float_mask_short": (1, 2, 2, 3, 5, 8, 8, 4, False, "float_short", {}, False),
    "past_causal_3d": (2, 4, 2, 3, 3, 8, 8, 5, True, None, {"is_causal": 1}, False),
    "softcap_mask_mode1": (1, 2, 2, 4, 4, 8, 8, 0, False, "float4d", {"softcap": 3.0, "qk_matmul_output_mode": 1}, False),
    "softcap_mode0": (1, 2, 2, 4, 4, 8, 8, 0, False, "float4d", {"softcap": 3.0, "qk_matmul_output_mode": 0}, False),
    "mode2_bool": (2, 2, 2, 4, 4, 8, 8, 0, False, "bool2d", {"qk_matmul_output_mode": 2}, False),
    "mode3_causal": (2, 2, 1, 4, 6, 8, 8, 0, False, None, {"is_causal": 1, "qk_matmul_output_mode": 3}, False),
    "fully_masked_rows": (1, 2, 2, 3, 4, 8, 8, 0, False, "bool_rowmasked", {}, False),
    "scaled_diff_dv": (1, 3, 3, 2, 9, 16, 5, 0, False, None, {"scale": 0.3}, False),
    "nonpad": (3, 2, 2, 1, 6, 8, 8, 0, False, None, {}, True),
    "nonpad_causal": (3, 2, 2, 2, 6, 8, 8, 0, False, None, {"is_causal": 1}, True),
}


def _attn_feeds(case, seed=0):
    B, Hq, Hkv, Sq, Skv, D, Dv, past, three_d, mask_kind, attrs, nonpad = ATTN_CASES[case]
    r = _rng(seed)
    f32 = np.float32
    T = past + Skv
    feeds = {}
    if three_d:
        feeds["Q"] = r.standard_normal((B, Sq, Hq * D)).astype(f32)
        feeds["K"] = r.standard_normal((B, Skv, Hkv * D)).astype(f32)
        feeds["V"] = r.standard_normal((B, Skv, Hkv * Dv)).astype(f32)
        attrs = dict(attrs, q_num_heads=Hq, kv_num_heads=Hkv)
    else:
        feeds["Q"] = r.standard_normal((B, Hq, Sq, D)).astype(f32)
        feeds["K"] = r.standard_normal((B, Hkv, Skv, D)).astype(f32)
        feeds["V"] = r.standard_normal((B, Hkv, Skv, Dv)).astype(f32)
    if past:
        feeds["past_key"] = r.standard_normal((B, Hkv, past, D)).astype(f32)
        feeds["past_value"] = r.standard_normal((B, Hkv, past, Dv)).astype(f32)
    if mask_kind == "bool2d":
        m = r.random((Sq, T)) > 0.3
        m[:, 0] = True
        feeds["attn_mask"] = m
    elif mask_kind == "bool4d":
        m = r.random((B, Hq, Sq, T)) > 0.3
        m[..., 0] = True
        feeds["attn_mask"] = m
    elif mask_kind == "bool_rowmasked":
        m = r.random((Sq, T)) > 0.5
        m[0, :] = False  # query 0 attends nothing
        m[1:, 1] = True
        feeds["attn_mask"] = m
    elif mask_kind == "float4d":
        feeds["attn_mask"] = r.standard_normal((B, 1, Sq, T)).astype(f32)
    elif mask_kind == "float_short":
        feeds["attn_mask"] = r.standard_normal((Sq, T - 2)).astype(f32)  # padded with -inf
    if nonpad:
        feeds["nonpad_kv_seqlen"] = np.array([Skv, Skv - 2, 3][:B], dtype=np.int64)
    return feeds, attrs


def _attn_n_outputs(attrs, feeds):
    if "qk_matmul_output_mode" in attrs:
        return 4
    return 3 if "past_key" in feeds else 1


def _attn_out_names(attrs, feeds):
    n = _attn_n_outputs(attrs, feeds)
    names = list(_ATTN_OUT[:n])
    if n == 4 and "past_key" not in feeds:
        names[1] = names[2] = ""
    return names


@pytest.mark.parametrize("case", sorted(ATTN_CASES))
def test_attention_vs_onnx_reference_evaluator(case):
    feeds, attrs = _attn_feeds(case)
    opset = 24 if "nonpad_kv_seqlen" in feeds else 23
    names = _attn_out_names(attrs, feeds)
    model = _make_single_node_model("Attention", _ATTN_IN, feeds, len(names), names, attrs, opset)
    want = _run_evaluator(model, feeds)
    got = _run_reference_node(model.graph.node[0], feeds)
    for name, w in want.items():
        if (case, name) in _EVALUATOR_ATTENTION_KNOWN_DIFF:
            continue
        _assert_close(got[name], w, f"{case}:{name}", tol=dict(rtol=1e-4, atol=1e-5))


# onnx.reference's Attention returns the *softcapped* scores for qk_matmul_output_mode=0,
# but the operator's definition (the attribute's text and the function body ONNX
# generates: qk_matmul_output = Identity(QKAttnWeight), the raw scaled Q·Kᵀ) says mode 0 is
# the raw product.  The reference follows the definition; this test pins it.
_EVALUATOR_ATTENTION_KNOWN_DIFF = {("softcap_mode0", "qk_matmul_output")}


def test_attention_mode0_is_raw_scores_even_with_softcap():
    feeds, attrs = _attn_feeds("softcap_mode0")
    y, _, _, qk = ref.onnx_attention(feeds["Q"], feeds["K"], feeds["V"], feeds["attn_mask"], **attrs)
    q, k = feeds["Q"].astype(np.float64), feeds["K"].astype(np.float64)
    np.testing.assert_allclose(qk, q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]), rtol=1e-12)


def test_attention_mode0_function_body_is_raw():
    """The function body ONNX itself generates for Attention takes mode 0 before softcap."""
    from onnx import defs, FunctionProto

    schema = defs.get_schema("Attention", 24)
    if not schema.has_context_dependent_function:
        pytest.skip("this onnx has no function body for Attention")
    node = helper.make_node("Attention", ["Q", "K", "V"], ["Y", "", "", "qk"], softcap=3.0,
                            qk_matmul_output_mode=0)
    tp = helper.make_tensor_type_proto(TensorProto.FLOAT, [1, 2, 4, 8]).SerializeToString()
    try:
        body = schema.get_context_dependent_function(node.SerializeToString(), [tp] * 3)
    except Exception as e:  # API differences across onnx versions
        pytest.skip(f"cannot build the function body: {e}")
    f = FunctionProto()
    f.ParseFromString(body)
    producer = {o: n for n in f.node for o in n.output}
    qk = producer["qk_matmul_output"]
    assert qk.op_type == "Identity"
    assert producer[qk.input[0]].op_type == "MatMul"


# onnxruntime deviations from the ONNX definition, found by these tests.
_ORT_ATTENTION_KNOWN_DIFF = {
    "float_mask_short": "onnxruntime's CPU Attention rejects an attn_mask whose last dim is "
    "shorter than past+kv ('inconsistent total_sequence_length'); ONNX pads it with -inf",
}


@pytest.mark.parametrize("case", sorted(ATTN_CASES))
def test_attention_vs_onnxruntime(case):
    if case in _ORT_ATTENTION_KNOWN_DIFF:
        pytest.skip(_ORT_ATTENTION_KNOWN_DIFF[case])
    feeds, attrs = _attn_feeds(case, seed=1)
    opset = 24 if "nonpad_kv_seqlen" in feeds else 23
    names = _attn_out_names(attrs, feeds)
    model = _make_single_node_model("Attention", _ATTN_IN, feeds, len(names), names, attrs, opset)
    sess = _ort_session(model)
    try:
        outs = sess.run(None, feeds)
    except Exception as e:
        if not ort_unsupported(e):
            raise
        pytest.skip(f"onnxruntime cannot run this Attention: {str(e).splitlines()[0][:200]}")
    got = _run_reference_node(model.graph.node[0], feeds)
    for o, val in zip(sess.get_outputs(), outs):
        _assert_close(got[o.name], _ort_masked_to_inf(val), f"{case}:{o.name} (onnxruntime)",
                      tol=dict(rtol=1e-3, atol=1e-5))


_LA_IN = ["query", "key", "value", "past_state", "decay", "beta"]

LA_CASES = {
    # name: (B, T, Hq, Hkv, dk, dv, rule, decay_kind, beta_kind, past, scale)
    "linear": (2, 5, 2, 2, 4, 3, "linear", None, None, False, 0.0),
    "linear_past_scale": (1, 3, 4, 2, 4, 4, "linear", None, None, True, 0.5),
    "gated_head": (2, 6, 2, 2, 4, 4, "gated", "head", None, True, 0.0),
    "gated_channel_gqa": (1, 4, 6, 2, 4, 5, "gated", "channel", None, False, 0.0),
    "delta": (2, 5, 2, 2, 4, 4, "delta", None, "head", False, 0.0),
    "delta_beta1_past": (1, 5, 4, 1, 4, 3, "delta", None, "one", True, 0.0),
    "gated_delta_head": (2, 7, 3, 3, 4, 4, "gated_delta", "head", "head", True, 0.0),
    "gated_delta_channel": (1, 5, 4, 2, 8, 4, "gated_delta", "channel", "one", False, 0.25),
    "decode_t1": (2, 1, 4, 2, 4, 4, "gated_delta", "head", "head", True, 0.0),
}


def _la_feeds(case, seed=0):
    B, T, Hq, Hkv, dk, dv, rule, decay_kind, beta_kind, past, scale = LA_CASES[case]
    r = _rng(seed)
    f32 = np.float32
    feeds = {
        "query": r.standard_normal((B, T, Hq * dk)).astype(f32),
        "key": (r.standard_normal((B, T, Hkv * dk)) / math.sqrt(dk)).astype(f32),
        "value": r.standard_normal((B, T, Hkv * dv)).astype(f32),
    }
    if past:
        feeds["past_state"] = r.standard_normal((B, Hkv, dk, dv)).astype(f32)
    if decay_kind == "head":
        feeds["decay"] = -r.random((B, T, Hkv)).astype(f32)
    elif decay_kind == "channel":
        feeds["decay"] = -r.random((B, T, Hkv * dk)).astype(f32)
    if beta_kind == "head":
        feeds["beta"] = r.random((B, T, Hkv)).astype(f32)
    elif beta_kind == "one":
        feeds["beta"] = r.random((B, T, 1)).astype(f32)
    attrs = dict(q_num_heads=Hq, kv_num_heads=Hkv, update_rule=rule)
    if scale:
        attrs["scale"] = scale
    return feeds, attrs


@pytest.mark.parametrize("case", sorted(LA_CASES))
def test_linear_attention_vs_onnx_reference_evaluator(case):
    feeds, attrs = _la_feeds(case)
    model = _make_single_node_model(
        "LinearAttention", _LA_IN, feeds, 2, ["output", "present_state"], attrs, 27
    )
    want = _run_evaluator(model, feeds)
    got = _run_reference_node(model.graph.node[0], feeds)
    for name, w in want.items():
        _assert_close(got[name], w, f"{case}:{name}", tol=dict(rtol=1e-4, atol=1e-5))


@pytest.mark.parametrize("case", sorted(LA_CASES))
def test_linear_attention_vs_onnxruntime(case):
    feeds, attrs = _la_feeds(case, seed=1)
    model = _make_single_node_model(
        "LinearAttention", _LA_IN, feeds, 2, ["output", "present_state"], attrs, 27
    )
    sess = _ort_session(model)
    try:
        outs = sess.run(None, feeds)
    except Exception as e:
        if not ort_unsupported(e):
            raise
        pytest.skip(f"onnxruntime cannot run LinearAttention: {str(e).splitlines()[0][:200]}")
    got = _run_reference_node(model.graph.node[0], feeds)
    for o, val in zip(sess.get_outputs(), outs):
        _assert_close(got[o.name], val, f"{case}:{o.name} (onnxruntime)", tol=dict(rtol=1e-3, atol=1e-5))


_CC_IN = ["input", "weight", "bias", "past_state"]
CC_CASES = {
    # name: (B, C, L, k, bias, past, activation)
    "k4": (2, 3, 7, 4, False, False, None),
    "k4_bias_past_silu": (2, 5, 6, 4, True, True, "silu"),
    "short_input_past": (1, 2, 2, 5, True, True, "swish"),
    "k1": (2, 3, 4, 1, True, False, None),
    "decode_l1": (3, 4, 1, 3, False, True, "silu"),
}


def _cc_feeds(case, seed=0):
    B, C, L, k, bias, past, act = CC_CASES[case]
    r = _rng(seed)
    f32 = np.float32
    feeds = {
        "input": r.standard_normal((B, C, L)).astype(f32),
        "weight": r.standard_normal((C, 1, k)).astype(f32),
    }
    if bias:
        feeds["bias"] = r.standard_normal((C,)).astype(f32)
    if past:
        feeds["past_state"] = r.standard_normal((B, C, k - 1)).astype(f32)
    attrs = {"activation": act} if act else {}
    return feeds, attrs


@pytest.mark.parametrize("case", sorted(CC_CASES))
def test_causal_conv_vs_onnx_reference_evaluator(case):
    feeds, attrs = _cc_feeds(case)
    model = _make_single_node_model(
        "CausalConvWithState", _CC_IN, feeds, 2, ["output", "present_state"], attrs, 27
    )
    want = _run_evaluator(model, feeds)
    got = _run_reference_node(model.graph.node[0], feeds)
    for name, w in want.items():
        _assert_close(got[name], w, f"{case}:{name}", tol=dict(rtol=1e-4, atol=1e-5))


@pytest.mark.parametrize("case", sorted(CC_CASES))
def test_causal_conv_vs_onnxruntime(case):
    feeds, attrs = _cc_feeds(case, seed=1)
    model = _make_single_node_model(
        "CausalConvWithState", _CC_IN, feeds, 2, ["output", "present_state"], attrs, 27
    )
    sess = _ort_session(model)
    try:
        outs = sess.run(None, feeds)
    except Exception as e:
        if not ort_unsupported(e):
            raise
        pytest.skip(f"onnxruntime cannot run CausalConvWithState: {str(e).splitlines()[0][:200]}")
    got = _run_reference_node(model.graph.node[0], feeds)
    for o, val in zip(sess.get_outputs(), outs):
        _assert_close(got[o.name], val, f"{case}:{o.name} (onnxruntime)", tol=dict(rtol=1e-3, atol=1e-5))


# --------------------------------------------------------------------------- #
# 3. Properties: SDPA
# --------------------------------------------------------------------------- #
def _qkv(r, B=2, Hq=4, Hkv=2, Sq=5, Skv=7, D=8, Dv=6):
    return (
        r.standard_normal((B, Hq, Sq, D)),
        r.standard_normal((B, Hkv, Skv, D)),
        r.standard_normal((B, Hkv, Skv, Dv)),
    )


def test_sdpa_matches_textbook_formula():
    r = _rng(10)
    q, k, v = _qkv(r, Hq=2, Hkv=2)
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(ref.sdpa(q, k, v), p @ v, rtol=1e-12, atol=1e-12)


def test_sdpa_gqa_equals_repeated_kv():
    r = _rng(11)
    q, k, v = _qkv(r, Hq=6, Hkv=2)
    kr, vr = np.repeat(k, 3, axis=1), np.repeat(v, 3, axis=1)
    np.testing.assert_allclose(ref.sdpa(q, k, v, causal=True), ref.sdpa(q, kr, vr, causal=True),
                               rtol=1e-12, atol=1e-12)


def test_sdpa_bool_mask_equals_additive_mask():
    r = _rng(12)
    q, k, v = _qkv(r)
    m = r.random((2, 1, 5, 7)) > 0.4
    m[..., 0] = True
    add = np.where(m, 0.0, -np.inf)
    np.testing.assert_allclose(ref.sdpa(q, k, v, mask=m), ref.sdpa(q, k, v, mask=add), rtol=1e-12)
    np.testing.assert_allclose(ref.sdpa(q, k, v, mask=np.ones((5, 7), bool)), ref.sdpa(q, k, v),
                               rtol=1e-12)


def test_sdpa_causal_equals_tril_mask_and_ignores_mask_above_diagonal():
    r = _rng(13)
    q, k, v = _qkv(r, Sq=5, Skv=7)
    tril = np.tril(np.ones((5, 7), bool))
    np.testing.assert_allclose(ref.sdpa(q, k, v, causal=True), ref.sdpa(q, k, v, mask=tril), rtol=1e-12)
    # a mask that allows everything does not undo causality
    np.testing.assert_allclose(
        ref.sdpa(q, k, v, causal=True, mask=np.zeros((5, 7))), ref.sdpa(q, k, v, causal=True), rtol=1e-12
    )
    # query 0 sees only key 0 -> its output is v[:, kv head, 0]
    out = ref.sdpa(q, k, v, causal=True)
    np.testing.assert_allclose(out[:, 0, 0], v[:, 0, 0], rtol=1e-12)


def test_sdpa_fully_masked_rows_give_zero():
    r = _rng(14)
    q, k, v = _qkv(r)
    m = np.ones((5, 7), bool)
    m[2] = False
    out = ref.sdpa(q, k, v, mask=m)
    assert np.all(out[:, :, 2] == 0.0)
    assert np.all(np.isfinite(out))
    # the other rows are unaffected
    np.testing.assert_allclose(np.delete(out, 2, axis=2), np.delete(ref.sdpa(q, k, v), 2, axis=2),
                               rtol=1e-12)
    # a causal offset < 0 fully masks the first rows
    out = ref.sdpa(q, k, v, causal=True, causal_offset=-2)
    assert np.all(out[:, :, :2] == 0.0)


def test_sdpa_softcap():
    r = _rng(15)
    q, k, v = _qkv(r)
    # a huge cap is no cap
    np.testing.assert_allclose(ref.sdpa(q, k, v, softcap=1e9), ref.sdpa(q, k, v), rtol=1e-9)
    # literal: scores c*tanh(s/c)
    c = 0.7
    s = np.einsum("bhid,bhjd->bhij", q, np.repeat(k, 2, 1)) / math.sqrt(8)
    s = c * np.tanh(s / c)
    p = np.exp(s) / np.exp(s).sum(-1, keepdims=True)
    np.testing.assert_allclose(ref.sdpa(q, k, v, softcap=c), p @ np.repeat(v, 2, 1), rtol=1e-12)


def test_sdpa_gates():
    r = _rng(16)
    q, k, v = _qkv(r)
    base = ref.sdpa(q, k, v)
    g = r.standard_normal(base.shape)
    np.testing.assert_allclose(ref.sdpa(q, k, v, gate=g), base / (1 + np.exp(-g)), rtol=1e-12)
    np.testing.assert_allclose(ref.sdpa(q, k, v, gate=g, gate_act="silu"),
                               base * g / (1 + np.exp(-g)), rtol=1e-12)
    gh = r.standard_normal(base.shape[:3] + (1,))
    np.testing.assert_allclose(ref.sdpa(q, k, v, gate=gh),
                               ref.sdpa(q, k, v, gate=np.broadcast_to(gh, base.shape)), rtol=1e-12)
    with pytest.raises(ValueError):
        ref.sdpa(q, k, v, gate=np.zeros(base.shape[:3] + (2,)))
    np.testing.assert_allclose(ref.gate(base, g), base / (1 + np.exp(-g)), rtol=1e-12)
    np.testing.assert_allclose(ref.gate(base, g, act="silu"), base * g / (1 + np.exp(-g)), rtol=1e-12)
    # stable for large |g|
    assert np.all(np.isfinite(ref.gate(np.ones(3), np.array([-1e4, 0.0, 1e4]))))


def test_sdpa_rejects_bad_shapes():
    r = _rng(17)
    q, k, v = _qkv(r, Hq=3, Hkv=2)
    with pytest.raises(ValueError):
        ref.sdpa(q, k, v)
    q, k, v = _qkv(r)
    with pytest.raises(ValueError):
        ref.sdpa(q, k[..., :4], v)
    with pytest.raises(ValueError):
        ref.sdpa(q, k, v, mask=np.ones((3, 7), bool))


def test_onnx_attention_kv_cache_equals_full_prefill():
    """Causal prefill of T tokens == prefill of T-n then n more with past_key/value."""
    r = _rng(18)
    B, Hq, Hkv, T, n, D = 2, 4, 2, 9, 3, 8
    q = r.standard_normal((B, Hq, T, D))
    k = r.standard_normal((B, Hkv, T, D))
    v = r.standard_normal((B, Hkv, T, D))
    full = ref.onnx_attention(q, k, v, is_causal=1)[0]
    y, pk, pv, _ = ref.onnx_attention(q[:, :, T - n:], k[:, :, T - n:], v[:, :, T - n:],
                                      past_key=k[:, :, :T - n], past_value=v[:, :, :T - n],
                                      is_causal=1)
    np.testing.assert_allclose(y, full[:, :, T - n:], rtol=1e-12)
    np.testing.assert_allclose(pk, k)
    np.testing.assert_allclose(pv, v)
    # static cache (nonpad_kv_seqlen, bottom-right causal) gives the same rows
    kpad = np.concatenate([k, r.standard_normal((B, Hkv, 2, D))], axis=2)
    vpad = np.concatenate([v, r.standard_normal((B, Hkv, 2, D))], axis=2)
    y2 = ref.onnx_attention(q[:, :, T - n:], kpad, vpad, nonpad_kv_seqlen=np.array([T, T]),
                            is_causal=1)[0]
    np.testing.assert_allclose(y2, full[:, :, T - n:], rtol=1e-12)


def test_onnx_attention_3d_equals_4d():
    r = _rng(19)
    B, Hq, Hkv, S, D = 2, 4, 2, 5, 8
    q = r.standard_normal((B, Hq, S, D))
    k = r.standard_normal((B, Hkv, S, D))
    v = r.standard_normal((B, Hkv, S, D))
    pack = lambda x: x.transpose(0, 2, 1, 3).reshape(B, S, -1)  # noqa: E731
    y4 = ref.onnx_attention(q, k, v, is_causal=1)[0]
    y3 = ref.onnx_attention(pack(q), pack(k), pack(v), is_causal=1, q_num_heads=Hq,
                            kv_num_heads=Hkv)[0]
    np.testing.assert_allclose(y3, pack(y4), rtol=1e-12)
    np.testing.assert_allclose(y4, ref.sdpa(q, k, v, causal=True), rtol=1e-12)


# --------------------------------------------------------------------------- #
# 4. Properties: linear attention
# --------------------------------------------------------------------------- #
def _la_inputs(r, B=2, Hq=2, Hk=2, Hv=2, T=6, K=4, V=3):
    q = r.standard_normal((B, Hq, T, K))
    k = r.standard_normal((B, Hk, T, K)) / math.sqrt(K)
    v = r.standard_normal((B, Hv, T, V))
    return q, k, v


def test_linear_rule_equals_parallel_form():
    """linear: o_t = scale * sum_{s<=t} (q_t . k_s) v_s  (+ S0ᵀ q_t)."""
    r = _rng(20)
    q, k, v = _la_inputs(r)
    S0 = r.standard_normal((2, 2, 4, 3))
    o, S = ref.linear_attention(q, k, v, "linear", initial_state=S0)
    scale = 1 / math.sqrt(4)
    A = np.tril(np.einsum("bhtk,bhsk->bhts", q, k))
    want = scale * (A @ v + np.einsum("bhtk,bhkv->bhtv", q, S0))
    np.testing.assert_allclose(o, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(S, S0 + np.einsum("bhtk,bhtv->bhkv", k, v), rtol=1e-10, atol=1e-12)


def test_gated_scalar_decay_equals_parallel_form():
    """gated (scalar): o_t = scale * sum_{s<=t} exp(G_t - G_s) (q_t . k_s) v_s, G = cumsum g."""
    r = _rng(21)
    q, k, v = _la_inputs(r)
    g = -r.random((2, 2, 6))
    o, _ = ref.linear_attention(q, k, v, "gated", decay=g)
    G = np.cumsum(g, axis=-1)
    D = np.exp(G[..., :, None] - G[..., None, :]) * np.tril(np.ones((6, 6)))
    want = 0.5 * (np.einsum("bhtk,bhsk->bhts", q, k) * D) @ v
    np.testing.assert_allclose(o, want, rtol=1e-10, atol=1e-12)


def test_gated_channel_decay_equals_parallel_form():
    """gated (per key channel): o_t = scale * sum_s sum_i q_t[i] exp(G_t[i]-G_s[i]) k_s[i] v_s."""
    r = _rng(22)
    q, k, v = _la_inputs(r)
    g = -r.random((2, 2, 6, 4))
    o, _ = ref.linear_attention(q, k, v, "gated", decay=g)
    G = np.cumsum(g, axis=2)
    w = np.exp(G[:, :, :, None, :] - G[:, :, None, :, :])  # [b,h,t,s,i]
    A = np.einsum("bhti,bhtsi,bhsi->bhts", q, w, k) * np.tril(np.ones((6, 6)))
    np.testing.assert_allclose(o, 0.5 * A @ v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("per_channel", [False, True])
def test_zero_decay_is_undecayed(per_channel):
    r = _rng(23)
    q, k, v = _la_inputs(r)
    S0 = r.standard_normal((2, 2, 4, 3))
    beta = r.random((2, 2, 6))
    g = np.zeros((2, 2, 6, 4) if per_channel else (2, 2, 6))
    a = ref.linear_attention(q, k, v, "gated", decay=g, initial_state=S0)
    b = ref.linear_attention(q, k, v, "linear", initial_state=S0)
    c = ref.linear_attention(q, k, v, "gated_delta", decay=g, beta=beta, initial_state=S0)
    d = ref.linear_attention(q, k, v, "delta", beta=beta, initial_state=S0)
    for x, y in ((a, b), (c, d)):
        np.testing.assert_allclose(x[0], y[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(x[1], y[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("rule", ["delta", "gated_delta"])
def test_beta_zero_leaves_state(rule):
    r = _rng(24)
    q, k, v = _la_inputs(r)
    S0 = r.standard_normal((2, 2, 4, 3))
    decay = np.zeros((2, 2, 6)) if rule == "gated_delta" else None
    o, S = ref.linear_attention(q, k, v, rule, decay=decay, beta=np.zeros((2, 2, 6)), initial_state=S0)
    np.testing.assert_allclose(S, S0, rtol=0, atol=0)
    np.testing.assert_allclose(o, 0.5 * np.einsum("bhtk,bhkv->bhtv", q, S0), rtol=1e-12)


def test_delta_beta_one_stores_value_exactly():
    """With beta=1 and a unit key, the delta rule overwrites S's row: Sᵀk == v afterwards."""
    r = _rng(25)
    B, H, K, V = 1, 1, 4, 3
    k = np.zeros((B, H, 1, K))
    k[..., 2] = 1.0
    v = r.standard_normal((B, H, 1, V))
    S0 = r.standard_normal((B, H, K, V))
    _, S = ref.linear_attention(np.zeros((B, H, 1, K)), k, v, "delta", beta=np.ones((B, H, 1)),
                                initial_state=S0)
    np.testing.assert_allclose(S[0, 0].T @ k[0, 0, 0], v[0, 0, 0], rtol=1e-12)


def test_gated_delta_literal_step():
    """One step of gated_delta with per-channel decay, written out: S = e*S; S += β k⊗(v − Sᵀk)."""
    r = _rng(26)
    K, V = 4, 3
    q, k, v = r.standard_normal((1, 1, 1, K)), r.standard_normal((1, 1, 1, K)), r.standard_normal((1, 1, 1, V))
    g = -r.random((1, 1, 1, K))
    beta = np.array([[[0.7]]])
    S0 = r.standard_normal((1, 1, K, V))
    o, S = ref.linear_attention(q, k, v, "gated_delta", decay=g, beta=beta, initial_state=S0, scale=0.3)
    Se = np.diag(np.exp(g[0, 0, 0])) @ S0[0, 0]
    kk, vv = k[0, 0, 0], v[0, 0, 0]
    S1 = Se + 0.7 * np.outer(kk, vv - Se.T @ kk)
    np.testing.assert_allclose(S[0, 0], S1, rtol=1e-12)
    np.testing.assert_allclose(o[0, 0, 0], 0.3 * S1.T @ q[0, 0, 0], rtol=1e-12)


@pytest.mark.parametrize("rule", ref.LINEAR_ATTENTION_RULES)
def test_linear_attention_state_carry(rule):
    """Running T tokens == running T1 tokens, then T-T1 from the carried state."""
    r = _rng(27)
    q, k, v = _la_inputs(r, T=7)
    decay = -r.random((2, 2, 7, 4)) if rule in ("gated", "gated_delta") else None
    beta = r.random((2, 2, 7)) if rule in ("delta", "gated_delta") else None
    sl = lambda x, a, b: None if x is None else x[:, :, a:b]  # noqa: E731
    o, S = ref.linear_attention(q, k, v, rule, decay=decay, beta=beta)
    o1, S1 = ref.linear_attention(sl(q, 0, 3), sl(k, 0, 3), sl(v, 0, 3), rule, decay=sl(decay, 0, 3),
                                  beta=sl(beta, 0, 3))
    o2, S2 = ref.linear_attention(sl(q, 3, 7), sl(k, 3, 7), sl(v, 3, 7), rule, decay=sl(decay, 3, 7),
                                  beta=sl(beta, 3, 7), initial_state=S1)
    np.testing.assert_allclose(np.concatenate([o1, o2], axis=2), o, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(S2, S, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("rule", ref.LINEAR_ATTENTION_RULES)
def test_linear_attention_gva_equals_repeated_qk(rule):
    """GVA (Hq == Hk = 2, Hv = 4): value head j reads q/k head j // 2."""
    r = _rng(28)
    q, k, _ = _la_inputs(r, Hq=2, Hk=2, T=5)
    v = r.standard_normal((2, 4, 5, 3))
    decay = -r.random((2, 4, 5)) if rule in ("gated", "gated_delta") else None
    beta = r.random((2, 4, 5)) if rule in ("delta", "gated_delta") else None
    o, S = ref.linear_attention(q, k, v, rule, decay=decay, beta=beta)
    assert o.shape == (2, 4, 5, 3) and S.shape == (2, 4, 4, 3)
    o2, S2 = ref.linear_attention(np.repeat(q, 2, 1), np.repeat(k, 2, 1), v, rule, decay=decay, beta=beta)
    np.testing.assert_allclose(o, o2, rtol=1e-12)
    np.testing.assert_allclose(S, S2, rtol=1e-12)


@pytest.mark.parametrize("rule", ref.LINEAR_ATTENTION_RULES)
def test_linear_attention_gqa_equals_repeated_state(rule):
    """GQA (Hq = 6, Hk = Hv = 2): query head h reads state h // 3."""
    r = _rng(29)
    q = r.standard_normal((1, 6, 4, 4))
    _, k, v = _la_inputs(r, B=1, T=4)
    decay = -r.random((1, 2, 4)) if rule in ("gated", "gated_delta") else None
    beta = r.random((1, 2, 4)) if rule in ("delta", "gated_delta") else None
    o, S = ref.linear_attention(q, k, v, rule, decay=decay, beta=beta)
    assert o.shape == (1, 6, 4, 3)
    for h in range(6):
        oh, _ = ref.linear_attention(q[:, h:h + 1], k[:, h // 3:h // 3 + 1], v[:, h // 3:h // 3 + 1], rule,
                                     decay=None if decay is None else decay[:, h // 3:h // 3 + 1],
                                     beta=None if beta is None else beta[:, h // 3:h // 3 + 1])
        np.testing.assert_allclose(o[:, h:h + 1], oh, rtol=1e-12)


def test_linear_attention_rejects_bad_inputs():
    r = _rng(30)
    q, k, v = _la_inputs(r)
    with pytest.raises(ValueError):
        ref.linear_attention(q, k, v, "gated")  # no decay
    with pytest.raises(ValueError):
        ref.linear_attention(q, k, v, "delta")  # no beta
    with pytest.raises(ValueError):
        ref.linear_attention(q, k, v, "linear", beta=np.ones((2, 2, 6)))
    with pytest.raises(ValueError):
        ref.linear_attention(q, k, v, "nope")
    with pytest.raises(ValueError):
        ref.linear_attention(q[:, :1], k, np.concatenate([v, v], 1), "linear")  # Hq=1,Hk=2,Hv=4


def test_onnx_linear_attention_matches_head_major():
    r = _rng(31)
    B, T, Hq, H, dk, dv = 2, 5, 4, 2, 4, 3
    query = r.standard_normal((B, T, Hq * dk))
    key = r.standard_normal((B, T, H * dk))
    value = r.standard_normal((B, T, H * dv))
    decay = -r.random((B, T, H * dk))
    beta = r.random((B, T, 1))
    out, S = ref.onnx_linear_attention(query, key, value, None, decay, beta, q_num_heads=Hq,
                                       kv_num_heads=H)
    hm = lambda x, h: x.reshape(B, T, h, -1).transpose(0, 2, 1, 3)  # noqa: E731
    o2, S2 = ref.linear_attention(hm(query, Hq), hm(key, H), hm(value, H), "gated_delta",
                                  decay=hm(decay, H), beta=np.repeat(beta.transpose(0, 2, 1), H, 1))
    np.testing.assert_allclose(out, o2.transpose(0, 2, 1, 3).reshape(B, T, -1), rtol=1e-12)
    np.testing.assert_allclose(S, S2, rtol=1e-12)


# --------------------------------------------------------------------------- #
# 5. Properties: causal conv
# --------------------------------------------------------------------------- #
def test_causal_conv_k1():
    r = _rng(40)
    x = r.standard_normal((2, 3, 5))
    w = r.standard_normal((3, 1))
    b = r.standard_normal(3)
    out, st = ref.causal_conv(x, w, b)
    np.testing.assert_allclose(out, w[None, :, 0:1] * x + b[None, :, None], rtol=1e-12)
    assert st.shape == (2, 3, 0)
    out, st = ref.causal_conv(x, w, b, activation="silu")
    y = w[None, :, 0:1] * x + b[None, :, None]
    np.testing.assert_allclose(out, y / (1 + np.exp(-y)), rtol=1e-12)


def test_causal_conv_equals_np_convolve():
    r = _rng(41)
    B, C, L, k = 2, 3, 9, 4
    x = r.standard_normal((B, C, L))
    w = r.standard_normal((C, k))
    out, st = ref.causal_conv(x, w)
    for b in range(B):
        for c in range(C):
            # causal: y[t] = sum_i w[i] x[t - (k-1) + i]  == full convolution with the flipped kernel
            want = np.convolve(x[b, c], w[c, ::-1])[:L]
            np.testing.assert_allclose(out[b, c], want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(st, x[:, :, -(k - 1):])


def test_causal_conv_streaming_equals_whole():
    r = _rng(42)
    B, C, L, k = 2, 4, 8, 4
    x = r.standard_normal((B, C, L))
    w = r.standard_normal((C, k))
    b = r.standard_normal(C)
    s0 = r.standard_normal((B, C, k - 1))
    whole, sw = ref.causal_conv(x, w, b, s0, activation="silu")
    st, outs = s0, []
    for t0, t1 in ((0, 1), (1, 3), (3, 8)):  # includes a piece shorter than k-1
        o, st = ref.causal_conv(x[:, :, t0:t1], w, b, st, activation="silu")
        outs.append(o)
    np.testing.assert_allclose(np.concatenate(outs, axis=2), whole, rtol=1e-12)
    np.testing.assert_allclose(st, sw)


def test_causal_conv_short_input_state_keeps_past():
    s0 = np.arange(6, dtype=np.float64).reshape(1, 1, 6)  # k = 7
    x = np.array([[[100.0, 200.0]]])
    _, st = ref.causal_conv(x, np.ones((1, 7)), initial_state=s0)
    np.testing.assert_array_equal(st, [[[2, 3, 4, 5, 100, 200]]])


@pytest.mark.parametrize("case", ["gqa4_causal", "bool_mask_causal", "past_causal_3d"])
@pytest.mark.parametrize("peer", ["onnx_reference", "onnxruntime"])
def test_attention_fp16(case, peer):
    """float16 inputs: the float64 reference against a peer computing in float16 (looser)."""
    feeds, attrs = _attn_feeds(case, seed=2)
    feeds = {k: (v.astype(np.float16) if v.dtype == np.float32 else v) for k, v in feeds.items()}
    names = _attn_out_names(attrs, feeds)
    model = _make_single_node_model("Attention", _ATTN_IN, feeds, len(names), names, attrs, 23)
    if peer == "onnx_reference":
        want = _run_evaluator(model, feeds)
    else:
        sess = _ort_session(model)
        try:
            want = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
        except Exception as e:
            if not ort_unsupported(e):
                raise
            pytest.skip(f"onnxruntime cannot run float16 Attention: {str(e).splitlines()[0][:200]}")
    got = _run_reference_node(model.graph.node[0], feeds)
    for name, w in want.items():
        assert w.dtype == np.float16
        _assert_close(got[name], w, f"{case}:{name} fp16 ({peer})")

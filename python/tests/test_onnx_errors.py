"""Broken ONNX models through gatec: every one fails with exit status 1 (never a signal) and an
stderr that starts with "gatec: error:" and names the node, op, attribute or value at fault.
Plus --onnx-op-stats, and a few valid but odd models (a one-token LinearAttention decode step
with a past state; a compiled library fed a wrong-shaped input)."""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import gatec
import kernel_util as ku
from gatec import reference as R

_EXAMPLES = os.path.join(ku.REPO, "examples")
if _EXAMPLES not in sys.path:
    sys.path.insert(0, _EXAMPLES)

import make_models as mm  # noqa: E402

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

F = TensorProto.FLOAT
vi = helper.make_tensor_value_info


def _save(path, nodes, inputs, outputs, opset=27, extra_opsets=()):
    graph = helper.make_graph(nodes, path.stem, inputs, outputs)
    model = helper.make_model(
        graph, ir_version=10,
        opset_imports=[helper.make_opsetid("", opset)]
        + [helper.make_opsetid(d, v) for d, v in extra_opsets])
    onnx.save(model, str(path))
    return path


def _compile(path, *extra):
    out = path.parent / f"lib{path.stem}.so"
    return ku.run_gatec([str(path), "-o", str(out), *extra])


def assert_fails(proc, *words):
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr}"
    assert proc.returncode == 1, f"exit status {proc.returncode}: {proc.stderr}"
    assert proc.stderr.startswith("gatec: error:"), f"stderr: {proc.stderr!r}"
    for w in words:
        assert w in proc.stderr, f"{w!r} not in {proc.stderr!r}"


def _unsupported_model(path):
    nodes = [helper.make_node("Foo", ["x"], ["a"], name="foo_1", domain="com.foo"),
             helper.make_node("Foo", ["a"], ["b"], name="foo_2", domain="com.foo"),
             helper.make_node("Bar", ["b"], ["y"], name="bar_1", domain="com.foo")]
    return _save(path, nodes, [vi("x", F, [2, 3])], [vi("y", F, [2, 3])],
                 extra_opsets=[("com.foo", 1)])


# --------------------------------------------------------------------------- #
# files that are not ONNX models
# --------------------------------------------------------------------------- #
def test_empty_file(tmp_path):
    p = tmp_path / "empty.onnx"
    p.write_bytes(b"")
    assert_fails(_compile(p), str(p), "cannot parse ONNX model")


def test_truncated_model(tmp_path):
    data = mm.build("qwen3_next_gated_deltanet").SerializeToString()
    p = tmp_path / "truncated.onnx"
    p.write_bytes(data[: len(data) // 2])
    assert_fails(_compile(p), str(p), "cannot parse ONNX model")


def test_random_bytes(tmp_path):
    p = tmp_path / "random.onnx"
    p.write_bytes(np.random.default_rng(0).bytes(4096))
    assert_fails(_compile(p), str(p), "cannot parse ONNX model")


# --------------------------------------------------------------------------- #
# unsupported ops
# --------------------------------------------------------------------------- #
def test_unsupported_ops_all_reported(tmp_path):
    p = _unsupported_model(tmp_path / "unsupported.onnx")
    proc = _compile(p)
    assert_fails(proc)
    lines = proc.stderr.strip().splitlines()
    assert all(ln.startswith("gatec: error:") for ln in lines), proc.stderr
    foo = [ln for ln in lines if "'Foo'" in ln]
    bar = [ln for ln in lines if "'Bar'" in ln]
    assert len(foo) == 1 and len(bar) == 1, f"one error per op type expected:\n{proc.stderr}"
    for w in ("unsupported op", "com.foo", "2 nodes", "foo_1", "foo_2"):
        assert w in foo[0], f"{w!r} not in {foo[0]!r}"
    for w in ("unsupported op", "com.foo", "1 node", "bar_1"):
        assert w in bar[0], f"{w!r} not in {bar[0]!r}"
    assert "bar_1" not in foo[0] and "foo_" not in bar[0]


# --------------------------------------------------------------------------- #
# bad attributes and shapes
# --------------------------------------------------------------------------- #
def test_linear_attention_bogus_update_rule(tmp_path):
    B, T, H, D = 1, 5, 2, 8
    node = helper.make_node("LinearAttention", ["q", "k", "v"], ["o", "s"], name="la_node",
                            q_num_heads=H, kv_num_heads=H, update_rule="bogus")
    p = _save(tmp_path / "la_bogus.onnx", [node],
              [vi(n, F, [B, T, H * D]) for n in "qkv"], [vi("o", F, None), vi("s", F, None)])
    assert_fails(_compile(p), "la_node", "LinearAttention", "update_rule", "'bogus'")


def test_op_newer_than_model_opset(tmp_path):
    """LinearAttention arrived in opset 27: a model importing opset 23 cannot use it."""
    B, T, H, D = 1, 5, 2, 8
    node = helper.make_node("LinearAttention", ["q", "k", "v"], ["o", "s"], name="la_old",
                            q_num_heads=H, kv_num_heads=H, update_rule="linear")
    p = _save(tmp_path / "la_opset23.onnx", [node],
              [vi(n, F, [B, T, H * D]) for n in "qkv"], [vi("o", F, None), vi("s", F, None)],
              opset=23)
    assert_fails(_compile(p), "la_old", "LinearAttention", "opset 27", "opset 23")


def test_linear_attention_heads_not_multiple(tmp_path):
    D = 8
    node = helper.make_node("LinearAttention", ["q", "k", "v"], ["o", "s"], name="la_heads_node",
                            q_num_heads=3, kv_num_heads=2, update_rule="linear")
    p = _save(tmp_path / "la_heads.onnx", [node],
              [vi("q", F, [1, 5, 3 * D]), vi("k", F, [1, 5, 2 * D]), vi("v", F, [1, 5, 2 * D])],
              [vi("o", F, None), vi("s", F, None)])
    assert_fails(_compile(p), "la_heads_node", "LinearAttention",
                 "q_num_heads (3)", "kv_num_heads (2)")


def test_attention_heads_not_multiple(tmp_path):
    D = 8
    node = helper.make_node("Attention", ["q", "k", "v"], ["o"], name="attn_heads_node",
                            q_num_heads=3, kv_num_heads=2)
    p = _save(tmp_path / "attn_heads.onnx", [node],
              [vi("q", F, [1, 5, 3 * D]), vi("k", F, [1, 5, 2 * D]), vi("v", F, [1, 5, 2 * D])],
              [vi("o", F, None)], opset=24)
    assert_fails(_compile(p), "attn_heads_node", "Attention", "q_num_heads (3)", "kv_num_heads (2)")


def test_matmul_inner_dimensions(tmp_path):
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="bad_matmul")
    p = _save(tmp_path / "matmul.onnx", [node], [vi("a", F, [3, 4]), vi("b", F, [5, 6])],
              [vi("y", F, None)], opset=21)
    assert_fails(_compile(p), "bad_matmul", "MatMul", "inner dimensions", "4", "5")


def test_input_nothing_produces(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu_1"),
             helper.make_node("Add", ["r", "ghost_value"], ["y"], name="add_ghost")]
    p = _save(tmp_path / "missing.onnx", nodes, [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], opset=21)
    assert_fails(_compile(p), "add_ghost", "Add", "'ghost_value'", "not produced")


# --------------------------------------------------------------------------- #
# --onnx-op-stats
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", ["qwen3_next_gated_deltanet", "qwen3_next_attention_decomposed"])
def test_op_stats_valid_model(tmp_path, name):
    model = mm.build(name)
    p = tmp_path / f"{name}.onnx"
    onnx.save(model, str(p))
    proc = ku.run_gatec([str(p), "--onnx-op-stats"])
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for ln in proc.stdout.strip().splitlines():
        parts = ln.split()
        assert len(parts) == 4, f"unexpected row {ln!r}"
        rows[parts[0]] = (parts[1], int(parts[2]), parts[3])
    expected = {}
    for n in model.graph.node:
        expected[n.op_type] = expected.get(n.op_type, 0) + 1
    assert {k: v[1] for k, v in rows.items()} == expected
    assert all(v[0] == "ai.onnx" and v[2] == "supported" for v in rows.values()), proc.stdout


def test_op_stats_unsupported(tmp_path):
    p = _unsupported_model(tmp_path / "unsupported.onnx")
    proc = ku.run_gatec([str(p), "--onnx-op-stats"])
    assert proc.returncode > 0, f"status {proc.returncode}: {proc.stdout}{proc.stderr}"
    rows = {ln.split()[0]: ln.split()[1:] for ln in proc.stdout.strip().splitlines()}
    assert rows == {"Foo": ["com.foo", "2", "UNSUPPORTED"], "Bar": ["com.foo", "1", "UNSUPPORTED"]}


# --------------------------------------------------------------------------- #
# valid but odd
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def decode_step(tmp_path_factory):
    """One token of Gated DeltaNet with GQA 4:2 and a past state; batch and the token count
    symbolic."""
    Hq, Hkv, dk, dv = 4, 2, 16, 8
    node = helper.make_node("LinearAttention", ["q", "k", "v", "past", "g", "b"],
                            ["o", "present"], name="decode", q_num_heads=Hq, kv_num_heads=Hkv,
                            update_rule="gated_delta")
    inputs = [vi("q", F, ["B", "T", Hq * dk]), vi("k", F, ["B", "T", Hkv * dk]),
              vi("v", F, ["B", "T", Hkv * dv]), vi("past", F, ["B", Hkv, dk, dv]),
              vi("g", F, ["B", "T", Hkv]), vi("b", F, ["B", "T", Hkv])]
    d = tmp_path_factory.mktemp("decode")
    p = _save(d / "decode.onnx", [node], inputs, [vi("o", F, None), vi("present", F, None)])
    return gatec.load(gatec.compile(str(p))), dict(Hq=Hq, Hkv=Hkv, dk=dk, dv=dv)


def _decode_feeds(cfg, B, T, seed=0):
    r = np.random.default_rng(seed)
    Hq, Hkv, dk, dv = cfg["Hq"], cfg["Hkv"], cfg["dk"], cfg["dv"]
    return [r.standard_normal((B, T, Hq * dk)).astype(np.float32),
            (r.standard_normal((B, T, Hkv * dk)) / np.sqrt(dk)).astype(np.float32),
            r.standard_normal((B, T, Hkv * dv)).astype(np.float32),
            r.standard_normal((B, Hkv, dk, dv)).astype(np.float32),
            (-r.uniform(0.01, 1.0, (B, T, Hkv))).astype(np.float32),
            r.uniform(0.0, 1.0, (B, T, Hkv)).astype(np.float32)]


def test_linear_attention_decode_with_past_state(decode_step):
    m, cfg = decode_step
    feeds = _decode_feeds(cfg, B=2, T=1)
    o, present = m(*feeds)
    ro, rs = R.onnx_linear_attention(*feeds, q_num_heads=cfg["Hq"], kv_num_heads=cfg["Hkv"],
                                     update_rule="gated_delta")
    assert o.shape == (2, 1, cfg["Hq"] * cfg["dv"]) and present.shape == feeds[3].shape
    ku.assert_close(o, ro, 1e-4, "output")
    ku.assert_close(present, rs, 1e-4, "present_state")


def test_linear_attention_decode_chain_equals_prefill(decode_step):
    """Five one-token steps carrying the state == one five-token call."""
    m, cfg = decode_step
    q, k, v, past, g, b = _decode_feeds(cfg, B=1, T=5, seed=3)
    o_all, s_all = m(q, k, v, past, g, b)
    state, outs = past, []
    for t in range(5):
        sl = slice(t, t + 1)
        o_t, state = m(q[:, sl], k[:, sl], v[:, sl], state, g[:, sl], b[:, sl])
        outs.append(o_t)
    ku.assert_close(np.concatenate(outs, axis=1), o_all, 1e-4, "output")
    ku.assert_close(state, s_all, 1e-4, "state")


def test_library_rejects_wrong_shape(decode_step):
    m, cfg = decode_step
    feeds = _decode_feeds(cfg, B=2, T=1)
    bad = list(feeds)
    bad[3] = np.zeros((2, cfg["Hkv"], cfg["dk"], cfg["dv"] + 1), np.float32)
    with pytest.raises(gatec.Error, match=r"'past'.*dimension 3"):
        m(*bad)
    bad = list(feeds)
    bad[3] = np.zeros((3, cfg["Hkv"], cfg["dk"], cfg["dv"]), np.float32)  # batch 3 vs 2
    with pytest.raises(gatec.Error, match=r"'past'.*'B'"):
        m(*bad)
    bad = list(feeds)
    bad[4] = feeds[4][..., None]  # rank 4
    with pytest.raises(gatec.Error, match=r"'g'.*rank"):
        m(*bad)
    # still usable after the rejected calls
    o, _ = m(*feeds)
    assert np.all(np.isfinite(o))

"""Decomposed attention with exporter-style masks, end to end.

gate-raise-sdpa replaces a mask by gate.sdpa's `causal` flag only when it is provably the causal
pattern, and by a `window` only when it is provably that band. A sliding window (keys
i - W < j <= i) agrees with causal near the diagonal and must become exactly `causal` with
`window = [W - 1, 0]`: these tests compile such models and compare them with float64 numpy.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import gatec
import kernel_util as ku

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

B, H, D = 1, 2, 8


def _attention_model(path, seq, window=None, form="range", fill=False):
    """softmax(QKᵀ/√D + mask) V with a causal or sliding-window mask [T, T] built as exporters
    write it, Where(keep, 0, -inf), with keep from Range positions (i - j >= 0, i - j < window)
    or from Trilu (tril(ones) - tril(ones, -window)); with `fill`, the scores'
    masked_fill(~keep, -inf) instead: Where(Not(keep), -inf, scores)."""
    g = ku.OnnxGraphBuilder()
    nodes, inits, const, op = g.nodes, g.inits, g.const, g.op

    if isinstance(seq, int):
        length = const("seq_len", np.array(seq, np.int64))
        shape = const("seq_shape", np.array([seq], np.int64))
    else:
        shape = op("Shape", ["Q"], "seq_shape", start=2, end=3)
        length = op("Squeeze", [shape, const("axis0", np.array([0], np.int64))], "seq_len")
    if form == "range":
        pos = op("Range", [const("zero", np.array(0, np.int64)), length,
                           const("one", np.array(1, np.int64))], "pos")
        q_pos = op("Unsqueeze", [pos, const("axis_q", np.array([1], np.int64))], "q_pos")
        k_pos = op("Unsqueeze", [pos, const("axis_k", np.array([0], np.int64))], "k_pos")
        rel = op("Sub", [q_pos, k_pos], "rel")
        keep = op("GreaterOrEqual", [rel, const("rel_zero", np.array(0, np.int64))], "not_future")
        if window is not None:
            in_window = op("Less", [rel, const("window", np.array(window, np.int64))], "in_window")
            keep = op("And", [keep, in_window], "keep")
    else:
        square = op("Concat", [shape, shape], "mask_shape", axis=0)
        ones = op("ConstantOfShape", [square], "ones",
                  value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))
        band = op("Trilu", [ones], "tril", upper=0)
        if window is not None:
            far = op("Trilu", [ones, const("minus_window", np.array(-window, np.int64))],
                     "tril_far", upper=0)
            band = op("Sub", [band, far], "band")
        keep = op("Cast", [band], "keep", to=TensorProto.BOOL)
    k_t = op("Transpose", ["K"], "k_t", perm=[0, 1, 3, 2])
    scores = op("MatMul", ["Q", k_t], "scores")
    scores = op("Mul", [scores, const("scale", np.array(1 / np.sqrt(D), np.float32))], "scaled")
    if fill:
        drop = keep if fill == "keep" else op("Not", [keep], "drop")
        scores = op("Where", [drop, const("drop_value", np.array(-np.inf, np.float32)), scores],
                    "masked")
    else:
        mask = op("Where", [keep, const("keep_value", np.array(0, np.float32)),
                            const("drop_value", np.array(-np.inf, np.float32))], "mask")
        scores = op("Add", [scores, mask], "masked")
    probs = op("Softmax", [scores], "probs", axis=-1)
    op("MatMul", [probs, "V"], "Y")

    t = seq if isinstance(seq, int) else "seq"
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [B, H, t, D]) for n in "QKVY"]
    graph = helper.make_graph(nodes, "masked_attention", io[:3], io[3:], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _reference(q, k, v, window):
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    t = q.shape[2]
    rel = np.arange(t)[:, None] - np.arange(t)[None, :]
    keep = rel >= 0
    if window is not None:
        keep &= rel < window
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D) + np.where(keep, 0.0, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return (p / p.sum(axis=-1, keepdims=True)) @ v


@pytest.mark.parametrize("fill", [False, True], ids=["additive", "masked_fill"])
@pytest.mark.parametrize("form", ["range", "trilu"])
@pytest.mark.parametrize("window", [None, 16], ids=["causal", "window16"])
@pytest.mark.parametrize("seq", [64, "dynamic"])
def test_masked_attention(tmp_path, seq, window, form, fill):
    path = _attention_model(tmp_path / "attn.onnx", seq, window, form, fill)
    proc = ku.run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    sdpa = [line for line in proc.stdout.splitlines() if "gate.sdpa" in line]
    assert len(sdpa) == 1, proc.stdout
    # Causal becomes the flag; the window becomes the op's window, exactly.
    assert "causal" in sdpa[0] and "mask(" not in sdpa[0], sdpa[0]
    assert ("window" in sdpa[0]) == (window is not None), sdpa[0]
    if window is not None:
        assert f"window = array<i64: {window - 1}, 0>" in sdpa[0], sdpa[0]

    module = gatec.load(gatec.compile(path, str(tmp_path / "libattn.so")))
    rng = np.random.default_rng(0)
    for t in ([64] if isinstance(seq, int) else [1, 17, 64, 65]):
        q, k, v = (rng.standard_normal((B, H, t, D)).astype(np.float32) for _ in range(3))
        got = module(q, k, v)
        got = got[0] if isinstance(got, tuple) else got
        err = float(np.max(np.abs(np.asarray(got, np.float64) - _reference(q, k, v, window))))
        assert err < 1e-4, f"T={t}: max abs error {err:.3g}"


def test_masked_fill_of_the_kept_band_stays(tmp_path):
    """masked_fill(keep, -inf) drops the causal band itself: the keys left
    (j > i) leave the last row with none, which gate.sdpa would make 0 and
    the decomposed graph NaN, so it is not raised; the numbers stay."""
    path = _attention_model(tmp_path / "attn.onnx", 16, None, "range", fill="keep")
    proc = ku.run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0 and "gate.sdpa" not in proc.stdout, proc.stdout
    module = gatec.load(gatec.compile(path, str(tmp_path / "libattn.so")))
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((B, H, 16, D)).astype(np.float32) for _ in range(3))
    got = module(q, k, v)
    got = np.asarray(got[0] if isinstance(got, tuple) else got, np.float64)
    qf, kf, vf = (x.astype(np.float64) for x in (q, k, v))
    s = qf @ kf.transpose(0, 1, 3, 2) / np.sqrt(D)
    s = np.where(np.arange(16)[None, :] > np.arange(16)[:, None], s, -np.inf)
    p = np.exp(s[..., :-1, :] - s[..., :-1, :].max(-1, keepdims=True))
    want = (p / p.sum(-1, keepdims=True)) @ vf
    assert np.abs(got[..., :-1, :] - want).max() < 1e-4
    assert np.isnan(got[..., -1, :]).all()  # softmax of a row of -inf, as ONNX defines it

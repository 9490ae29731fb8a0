"""Decomposed attention over a KV cache with exporter-style masks, end to end.

A decode step or a chunked prefill appends T new keys to a cache of P: query i
sits at position P + i, and transformers' mask keeps key j iff j <= P + i (and,
with a sliding window W, j > P + i - W). That is gate.sdpa's bottom-right band
(query i at key i + Skv - Sq), proven for every P: `causal` + `bottom_right`
(+ `window = [W - 1, 0]`), no mask. Near misses (the diagonal off by one, the
positions of another length) keep their mask; every case is compared with
float64 numpy at several cache lengths.
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


def _cache_attention_model(path, chunk, window=None, shift=0, fill=False):
    """softmax(Q·[past_K, K]ᵀ/√D + mask)·[past_V, V] with the mask built from
    positions: queries Range(P + shift, P + T + shift), keys Range(0, P + T)."""
    g = ku.OnnxGraphBuilder()
    const, op = g.const, g.op
    i64 = lambda x: np.array(x, np.int64)
    past = op("Squeeze", [op("Shape", ["past_K"], "past_shape", start=2, end=3),
                          const("axis0", i64([0]))], "past_len")
    if isinstance(chunk, int):
        t = const("chunk", i64(chunk))
    else:
        t = op("Squeeze", [op("Shape", ["Q"], "q_shape", start=2, end=3), "axis0"], "chunk")
    total = op("Add", [past, t], "total")
    first = op("Add", [past, const("shift", i64(shift))], "first_pos") if shift else past
    last = op("Add", [first, t], "end_pos")
    one = const("one", i64(1))
    q_pos = op("Unsqueeze", [op("Range", [first, last, one], "q_range"),
                             const("axis_q", i64([1]))], "q_pos")
    k_pos = op("Unsqueeze", [op("Range", [const("zero", i64(0)), total, one], "k_range"),
                             const("axis_k", i64([0]))], "k_pos")
    keep = op("LessOrEqual", [k_pos, q_pos], "not_future")
    if window is not None:
        lo = op("Sub", [q_pos, const("window", i64(window))], "window_start")
        keep = op("And", [keep, op("Greater", [k_pos, lo], "in_window")], "keep")
    keys = op("Concat", ["past_K", "K"], "keys", axis=2)
    values = op("Concat", ["past_V", "V"], "values", axis=2)
    scores = op("MatMul", ["Q", op("Transpose", [keys], "k_t", perm=[0, 1, 3, 2])], "scores")
    scores = op("Mul", [scores, const("scale", np.array(1 / np.sqrt(D), np.float32))], "scaled")
    ninf = const("drop_value", np.array(-np.inf, np.float32))
    if fill:
        scores = op("Where", [op("Not", [keep], "drop"), ninf, scores], "masked")
    else:
        mask = op("Where", [keep, const("keep_value", np.array(0, np.float32)), ninf], "mask")
        scores = op("Add", [scores, mask], "masked")
    op("MatMul", [op("Softmax", [scores], "probs", axis=-1), values], "Y")

    t_dim = chunk if isinstance(chunk, int) else "T"
    vi = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, [B, H, s, D])
    inputs = [vi("Q", t_dim), vi("K", t_dim), vi("V", t_dim), vi("past_K", "P"),
              vi("past_V", "P")]
    graph = helper.make_graph(g.nodes, "cache_attention", inputs, [vi("Y", t_dim)],
                              initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _reference(q, k, v, pk, pv, window, shift):
    q, k, v, pk, pv = (x.astype(np.float64) for x in (q, k, v, pk, pv))
    keys, values = np.concatenate([pk, k], 2), np.concatenate([pv, v], 2)
    p, t = pk.shape[2], q.shape[2]
    qp = np.arange(t)[:, None] + p + shift
    kp = np.arange(p + t)[None, :]
    keep = kp <= qp
    if window is not None:
        keep &= kp > qp - window
    s = q @ keys.transpose(0, 1, 3, 2) / np.sqrt(D) + np.where(keep, 0.0, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ values


def _sdpa_lines(path):
    proc = ku.run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if "gate.sdpa" in line]


def _check_numbers(tmp_path, path, chunk, window, shift, pasts=(0, 1, 5, 70)):
    module = gatec.load(gatec.compile(path, str(tmp_path / "lib.so")))
    rng = np.random.default_rng(0)
    for p in pasts:
        for t in ([chunk] if isinstance(chunk, int) else [1, 3, 9]):
            q, k, v = (rng.standard_normal((B, H, t, D)).astype(np.float32) for _ in range(3))
            pk, pv = (rng.standard_normal((B, H, p, D)).astype(np.float32) for _ in range(2))
            got = module(q, k, v, pk, pv)
            got = np.asarray(got[0] if isinstance(got, tuple) else got, np.float64)
            want = _reference(q, k, v, pk, pv, window, shift)
            assert np.isfinite(got).all() == np.isfinite(want).all(), f"P={p} T={t}: NaN"
            ok = np.isfinite(want)
            err = float(np.max(np.abs(got[ok] - want[ok]))) if ok.any() else 0.0
            assert err < 1e-4, f"P={p} T={t}: max abs error {err:.3g}"


@pytest.mark.parametrize("fill", [False, True], ids=["additive", "masked_fill"])
@pytest.mark.parametrize("window", [None, 1, 3, 16, 100], ids=["causal", "w1", "w3", "w16", "w100"])
@pytest.mark.parametrize("chunk", [1, 5])
def test_cache_mask_is_bottom_right(tmp_path, chunk, window, fill):
    path = _cache_attention_model(tmp_path / "attn.onnx", chunk, window, fill=fill)
    sdpa = _sdpa_lines(path)
    assert len(sdpa) == 1 and "mask(" not in sdpa[0], sdpa
    if chunk == 1 and window is None:
        # one query at the last key sees every key: no band at all
        assert "causal" not in sdpa[0] and "bottom_right" not in sdpa[0], sdpa[0]
    else:
        assert "causal" in sdpa[0] and "bottom_right" in sdpa[0], sdpa[0]
        assert ("window" in sdpa[0]) == (window is not None), sdpa[0]
        if window is not None:
            assert f"window = array<i64: {window - 1}, 0>" in sdpa[0], sdpa[0]
    _check_numbers(tmp_path, path, chunk, window, 0)


@pytest.mark.parametrize("shift", [-1, 1])
@pytest.mark.parametrize("window", [None, 4], ids=["causal", "w4"])
def test_cache_mask_off_by_one(tmp_path, shift, window):
    """Queries at P + i + 1 (one future key) or P + i - 1 (the own key
    dropped; the first row of an empty cache sees nothing): never the causal
    band. One future key within a window of 4 is exactly the bottom-right
    window [2, 1]; the others keep their mask. The numbers are the graph's."""
    path = _cache_attention_model(tmp_path / "attn.onnx", 5, window, shift=shift)
    lines = _sdpa_lines(path)
    for line in lines:
        assert not ("causal" in line and "mask(" not in line), line
    if shift == 1 and window is not None:
        assert len(lines) == 1 and "mask(" not in lines[0], lines
        assert "bottom_right" in lines[0] and "window = array<i64: 2, 1>" in lines[0], lines[0]
    else:
        for line in lines:
            assert "mask(" in line, line
    _check_numbers(tmp_path, path, 5, window, shift, pasts=(1, 5, 70))


@pytest.mark.parametrize("window", [None, 3], ids=["causal", "w3"])
def test_dynamic_chunk_is_bottom_right(tmp_path, window):
    """A chunk of dynamic length T over a cache of P: keys P + T, read as the
    sum of the two sizes, so the offset Skv - Sq is P for every P and T."""
    path = _cache_attention_model(tmp_path / "attn.onnx", "dynamic", window)
    sdpa = _sdpa_lines(path)
    assert len(sdpa) == 1 and "mask(" not in sdpa[0], sdpa
    assert "bottom_right" in sdpa[0] and "causal" in sdpa[0], sdpa[0]
    assert ("window = array<i64: 2, 0>" in sdpa[0]) == (window == 3), sdpa[0]
    _check_numbers(tmp_path, path, "dynamic", window, 0)

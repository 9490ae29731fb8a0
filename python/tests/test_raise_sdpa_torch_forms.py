"""The attention forms torch 2's dynamo exporter writes at opset 18, end to end.

torch splits the scale as √s on Q and on Kᵀ, builds Kᵀ on the keys collapsed to [B·H, S, D]
(Reshape → Transpose(0,2,1) → Reshape, after expanding GQA heads), adds a [B,1,T,T] mask made
with Where(keep, 0, lowest float), and guards the softmax with Where(IsNaN(P), 0, P). Each
variant must raise to one gate.sdpa (causal where the mask is the causal triangle, GQA as a head
mapping) and match float64 numpy; near misses must stay decomposed (or keep their mask) and
still match.
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

B, HQ, D = 2, 4, 8
LOWEST = np.finfo(np.float32).min


def _transformers_keep(op, const, t, shape, positions, step):
    """transformers' mask as torch exports it: positions (Range, or a graph input), the
    packed-sequence test cumsum(diff(positions, prepend=p0 - 1) != step), and GatherND reads
    of both at the query and key indices: keep = pos[kv] <= pos[q] and seq[q] == seq[kv]."""
    one = const("t_one", np.array(1, np.int64))
    if positions == "input":
        pos = "positions"
    else:
        pos = op("Range", [const("t_zero", np.array(0, np.int64)), t, one], "t_range")
        pos = op("Unsqueeze", [pos, const("t_ax0", np.array([0], np.int64))], "t_pos")
    first = op("Slice", [pos, const("t_s0", np.array([0], np.int64)),
                         const("t_s1", np.array([1], np.int64)),
                         const("t_sax", np.array([1], np.int64))], "t_first")
    first = op("Sub", [first, one], "t_dummy")
    cat = op("Concat", [first, pos], "t_cat", axis=-1)
    t1 = op("Add", [shape, const("t_one1", np.array([1], np.int64))], "t_len1")
    hi = op("Slice", [cat, const("t_h0", np.array([1], np.int64)), t1,
                      const("t_hax", np.array([1], np.int64))], "t_hi")
    lo = op("Slice", [cat, const("t_l0", np.array([0], np.int64)), shape,
                      const("t_lax", np.array([1], np.int64))], "t_lo")
    diff = op("Sub", [hi, lo], "t_diff")
    starts = op("Not", [op("Equal", [diff, const("t_step", np.array(step, np.int64))], "t_eq")],
                "t_new")
    seq = op("CumSum", [op("Cast", [starts], "t_newi", to=TensorProto.INT64),
                        const("t_cax", np.array(1, np.int64))], "t_seq")
    # Index pairs [0, q] and [0, kv] for GatherND, as the exporter's vmap writes them.
    idx = op("Range", [const("t_i0", np.array(0, np.int64)), t, one], "t_idx")
    zeros = op("Mul", [idx, const("t_zero_i", np.array(0, np.int64))], "t_zeros")
    pairs = op("Concat", [op("Unsqueeze", [zeros, const("t_u1", np.array([1], np.int64))], "t_zb"),
                          op("Unsqueeze", [idx, const("t_u2", np.array([1], np.int64))], "t_ib")],
               "t_pairs", axis=1)
    pos_at = op("GatherND", [pos, pairs], "t_pos_at")
    seq_at = op("GatherND", [seq, pairs], "t_seq_at")
    col = const("t_col", np.array([1], np.int64))
    row = const("t_row", np.array([0], np.int64))
    keep = op("LessOrEqual", [op("Unsqueeze", [pos_at, row], "t_kvp"),
                              op("Unsqueeze", [pos_at, col], "t_qp")], "t_causal")
    same = op("Equal", [op("Unsqueeze", [seq_at, col], "t_qs"),
                        op("Unsqueeze", [seq_at, row], "t_kvs")], "t_same")
    return op("And", [keep, same], "t_keep")


def _model(path, hkv=2, guard_fill=0.0, fill=LOWEST, window=None, mask_form="range",
           positions="range", step=1):
    """Q [B,HQ,T,D], K/V [B,hkv,T,D] -> Y [B,HQ,T,D], written as torch's opset-18 export."""
    g = ku.OnnxGraphBuilder()
    nodes, inits, const, op = g.nodes, g.inits, g.const, g.op
    group = HQ // hkv

    shape = op("Shape", ["Q"], "seq_shape", start=2, end=3)
    t = op("Squeeze", [shape, const("axis0", np.array([0], np.int64))], "seq_len")

    def repeat(x, name):
        if group == 1:
            return x
        x5 = op("Unsqueeze", [x, const(name + "_ax", np.array([2], np.int64))], name + "_5d")
        tgt = op("Concat", [const(name + "_lead", np.array([B, hkv, group], np.int64)), shape,
                            const(name + "_d", np.array([D], np.int64))], name + "_tgt", axis=0)
        x5 = op("Expand", [x5, tgt], name + "_exp")
        tgt4 = op("Concat", [const(name + "_lead4", np.array([B, HQ], np.int64)), shape,
                             const(name + "_d4", np.array([D], np.int64))], name + "_tgt4", axis=0)
        return op("Reshape", [x5, tgt4], name + "_rep")

    k = repeat("K", "k")
    v = repeat("V", "v")
    # Kᵀ on the collapsed keys.
    flat = op("Concat", [const("bh", np.array([B * HQ], np.int64)), shape,
                         const("dd", np.array([D], np.int64))], "flat_shape", axis=0)
    k3 = op("Reshape", [k, flat], "k3")
    kt3 = op("Transpose", [k3], "kt3", perm=[0, 2, 1])
    back = op("Concat", [const("b_h", np.array([B, HQ, D], np.int64)), shape], "back_shape", axis=0)
    kt = op("Reshape", [kt3, back], "kt")
    root = np.float32(np.sqrt(1 / np.sqrt(D)))
    q = op("Mul", ["Q", const("sq", root)], "q_s")
    kt = op("Mul", [kt, const("sk", root)], "kt_s")
    # The causal (or windowed) mask from positions, Where(keep, 0, fill).
    pos = op("Range", [const("zero", np.array(0, np.int64)), t,
                       const("one", np.array(1, np.int64))], "pos")
    qp = op("Unsqueeze", [pos, const("axq", np.array([1], np.int64))], "qp")
    kp = op("Unsqueeze", [pos, const("axk", np.array([0], np.int64))], "kp")
    keep = op("LessOrEqual", [kp, qp], "keep")
    if mask_form == "transformers":
        keep = _transformers_keep(op, const, t, shape, positions, step)
    if window is not None:
        rel = op("Sub", [qp, kp], "rel")
        near = op("Less", [rel, const("win", np.array(window, np.int64))], "near")
        keep = op("And", [keep, near], "keep_w")
    mask = op("Where", [keep, const("z", np.float32(0)), const("fill", np.float32(fill))], "mask2")
    mask = op("Unsqueeze", [mask, const("axm", np.array([0, 1], np.int64))], "mask")
    s = op("MatMul", [q, kt], "scores")
    s = op("Add", [s, mask], "masked")
    p = op("Softmax", [s], "probs", axis=-1)
    nan = op("IsNaN", [p], "nan")
    p = op("Where", [nan, const("gz", np.float32(guard_fill)), p], "safe")
    op("MatMul", [p, v], "Y")

    io = [helper.make_tensor_value_info("Q", TensorProto.FLOAT, [B, HQ, "T", D])]
    io += [helper.make_tensor_value_info(n, TensorProto.FLOAT, [B, hkv, "T", D]) for n in "KV"]
    if positions == "input":
        io.append(helper.make_tensor_value_info("positions", TensorProto.INT64, [1, "T"]))
    out = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [B, HQ, "T", D])]
    graph = helper.make_graph(nodes, "torch_sdpa_opset18", io, out, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _transformers_keep_ref(pos, step):
    prev = np.concatenate([pos[:1] - 1, pos[:-1]])
    seq = np.cumsum(pos - prev != step)
    return (pos[None, :] <= pos[:, None]) & (seq[:, None] == seq[None, :])


def _reference(q, k, v, window=None, guard_fill=0.0, fill=LOWEST, keep=None):
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    g = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, g, axis=1), np.repeat(v, g, axis=1)
    t = q.shape[2]
    i, j = np.arange(t)[:, None], np.arange(t)[None, :]
    keep = (j <= i) if keep is None else keep
    if window is not None:
        keep &= (i - j) < window
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1]) + np.where(keep, 0.0, float(fill))
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    p = np.where(np.isnan(p), guard_fill, p)
    return p @ v


def _sdpa_lines(path):
    proc = ku.run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    return [ln for ln in proc.stdout.splitlines() if "= gate.sdpa" in ln]


CASES = {
    # name: (model kwargs, raised?, causal?, window or None (a mask stays when
    # neither causal nor a window))
    "gqa": (dict(hkv=2), True, True, None),
    "mha": (dict(hkv=4), True, True, None),
    "mqa": (dict(hkv=1), True, True, None),
    # A sliding window of 5: the query and the 4 keys before it.
    "window_5": (dict(window=5), True, True, (4, 0)),
    "fill_minus_1e9_stays_a_mask": (dict(fill=-1e9), True, False, None),
    # transformers' mask over arange positions: the packed-sequence term is
    # provably always true, so this is causal.
    "transformers_mask": (dict(mask_form="transformers"), True, True, None),
    # A step of 2 makes every token its own sequence: the diagonal only, a
    # window of nothing but the query's own key. Positions from an input may
    # describe packed sequences: a mask.
    "transformers_step2_diagonal": (dict(mask_form="transformers", step=2), True, True, (0, 0)),
    "transformers_input_positions_stay_a_mask":
        (dict(mask_form="transformers", positions="input"), True, False, None),
    # A guard that writes 1 is not the safe softmax: nothing raises.
    "guard_to_one_not_raised": (dict(guard_fill=1.0), False, False, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_opset18_attention(tmp_path, name):
    kw, raised, causal, window = CASES[name]
    path = _model(tmp_path / "m.onnx", **kw)
    lines = _sdpa_lines(path)
    assert len(lines) == (1 if raised else 0), lines
    if raised:
        assert ("causal" in lines[0]) == causal, lines[0]
        assert ("mask(" in lines[0]) == (not causal and window is None), lines[0]
        assert ("window" in lines[0]) == (window is not None), lines[0]
        if window is not None:
            assert f"window = array<i64: {window[0]}, {window[1]}>" in lines[0], lines[0]
    m = gatec.load(gatec.compile(path, str(tmp_path / "lib.so")))
    rng = np.random.default_rng(len(name))
    hkv = kw.get("hkv", 2)
    for t in (1, 7, 33, 70):
        q = rng.standard_normal((B, HQ, t, D)).astype(np.float32)
        k, v = (rng.standard_normal((B, hkv, t, D)).astype(np.float32) for _ in range(2))
        args, keep = [q, k, v], None
        if kw.get("mask_form") == "transformers":
            pos = np.arange(t, dtype=np.int64)
            if kw.get("positions") == "input":
                # Two packed sequences, the second restarting at 0.
                pos = np.concatenate([np.arange(t // 2), np.arange(t - t // 2)]).astype(np.int64)
                args.append(pos[None])
            keep = _transformers_keep_ref(pos, kw.get("step", 1))
        (y,) = m(*args)
        ref = _reference(q, k, v, kw.get("window"), kw.get("guard_fill", 0.0),
                         kw.get("fill", LOWEST), keep)
        ku.assert_close(y, ref, ku.F32_TOL, f"{name} T={t}")

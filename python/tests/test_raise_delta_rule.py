"""transformers' gated delta rule as torch 2's dynamo exporter writes it
(scripts/export_delta_rule.py, committed under test/models/delta_rule/ with its
inputs and PyTorch's outputs): the importer recognises the unrolled chunked
algorithm (padding, decay masks, the scatter-based forward substitution, the
chunk loop) and the unrolled token loop of the recurrent form (a decode step),
and imports each as one gate.linear_attention, which matches PyTorch and the
float64 recurrence; the final state is the op's, also where a node reads it.
Copies of the files changed in one place, so that they compute something
else, stay unrolled and match ONNX Runtime."""
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import gatec
from kernel_util import REPO, assert_close, have_compiler, run_gatec

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

MODELS = os.path.join(REPO, "test", "models", "delta_rule")
# name: (initial/final state, l2norm inside the rule, final state cast to f16 by a node)
CASES = {
    "t130": (False, True, False),
    "t128_state": (True, False, False),
    "t20": (False, True, False),
    "t70_state_cast": (True, True, True),
    "rec_t1_decode": (True, True, False),
    "rec_t6": (False, True, False),
    "rec_t5_state_cast": (True, False, True),
    "rec_t3_dynbatch": (True, True, False),
    "rec_t4_legacy": (True, True, False),
}
TOL = 1e-4


def _path(name):
    return os.path.join(MODELS, name + ".onnx")


def _recurrence(q, k, v, g, beta, state, l2norm):
    """The gated delta rule token by token in float64: q, k [B,T,Hk,dk],
    v [B,T,H,dv], g, beta [B,T,H] (each key head serves H/Hk value heads);
    returns out [B,T,H,dv] and the state."""
    q, k, v, g, beta = (np.asarray(x, np.float64) for x in (q, k, v, g, beta))
    rep = v.shape[2] // k.shape[2]
    q, k = np.repeat(q, rep, axis=2), np.repeat(k, rep, axis=2)
    if l2norm:
        q = q / np.sqrt((q * q).sum(-1, keepdims=True) + 1e-6)
        k = k / np.sqrt((k * k).sum(-1, keepdims=True) + 1e-6)
    b, t, h, dk = k.shape
    s = np.zeros((b, h, dk, v.shape[-1])) if state is None else state.astype(np.float64)
    out = np.empty(v.shape)
    for i in range(t):
        s = s * np.exp(g[:, i])[..., None, None]
        pred = np.einsum("bhkv,bhk->bhv", s, k[:, i])
        s = s + np.einsum("bhk,bhv->bhkv", k[:, i], (v[:, i] - pred) * beta[:, i][..., None])
        out[:, i] = np.einsum("bhkv,bhk->bhv", s, q[:, i] * dk ** -0.5)
    return out, s


def _gate_ir(path):
    proc = run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _feeds(name):
    data = np.load(os.path.join(MODELS, name + ".npz"))
    names = ["q", "k", "v", "g", "beta"] + (["state"] if CASES[name][0] else [])
    return data, [data[n] for n in names]


@pytest.mark.parametrize("name", sorted(CASES))
def test_raised_to_one_op(name):
    ir = _gate_ir(_path(name))
    la = [ln for ln in ir.splitlines() if "= gate.linear_attention" in ln]
    assert len(la) == 1 and "gated_delta" in la[0], la
    # Nothing of the unrolled algorithm is left, the final state included.
    assert "scf.for" not in ir and "tensor.insert" not in ir
    assert ("initial_state(" in la[0]) == CASES[name][0], la[0]
    if CASES[name][2]:
        # The node reading the final state reads the op's.
        assert "arith.truncf %final_state" in ir, ir


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch_and_recurrence(tmp_path, name):
    lib = gatec.load(gatec.compile(_path(name), str(tmp_path / f"lib{name}.so")))
    data, feeds = _feeds(name)
    state, l2norm, cast = CASES[name]
    got = lib(*feeds)
    got = got if isinstance(got, tuple) else (got,)
    assert_close(got[0], data["out"], TOL, f"{name}: output vs PyTorch")
    out64, s64 = _recurrence(*feeds[:5], data["state"] if state else None, l2norm)
    assert_close(got[0], out64, TOL, f"{name}: output vs float64 recurrence")
    if state:
        tol = 1e-3 if cast else TOL  # the state returned in float16
        assert got[1].dtype == data["final_state"].dtype
        assert_close(got[1], data["final_state"], tol, f"{name}: final state vs PyTorch")
        assert_close(got[1], s64, tol, f"{name}: final state vs float64 recurrence")


def test_dynamic_batch(tmp_path):
    """The recurrent export with a dynamic batch at batch sizes it was not
    traced with."""
    lib = gatec.load(gatec.compile(_path("rec_t3_dynbatch"), str(tmp_path / "libdyn.so")))
    rng = np.random.default_rng(3)
    for b in (1, 5):
        q, k = (rng.standard_normal((b, 3, 2, 8)).astype(np.float32) for _ in range(2))
        v = rng.standard_normal((b, 3, 2, 6)).astype(np.float32)
        g = -rng.random((b, 3, 2), dtype=np.float32)
        beta = rng.random((b, 3, 2), dtype=np.float32)
        s0 = rng.standard_normal((b, 2, 8, 6)).astype(np.float32)
        out, st = lib(q, k, v, g, beta, s0)
        out64, s64 = _recurrence(q, k, v, g, beta, s0, True)
        assert_close(out, out64, TOL, f"B={b}: output")
        assert_close(st, s64, TOL, f"B={b}: final state")


@pytest.mark.parametrize("name", ["t70_state_cast", "rec_t5_state_cast"])
def test_state_reader_imported_before_output(tmp_path, name):
    """The node reading the final state placed right after the state's
    producer, so it is imported before the output that triggers the raising:
    it reads the fused op's state all the same."""
    m = onnx.load(_path(name))
    cast = next(n for n in m.graph.node if n.op_type == "Cast" and n.output[0] in
                {o.name for o in m.graph.output})
    nodes = [n for n in m.graph.node if n is not cast]
    at = next(k for k, n in enumerate(nodes) if cast.input[0] in n.output)
    reordered = nodes[:at + 1] + [cast] + nodes[at + 1:]
    del m.graph.node[:]
    m.graph.node.extend(reordered)
    path = str(tmp_path / f"{name}_early.onnx")
    onnx.save(m, path)
    ir = _gate_ir(path)
    assert "arith.truncf %final_state" in ir and "tensor.insert" not in ir, ir
    data, feeds = _feeds(name)
    out, st = gatec.load(gatec.compile(path, str(tmp_path / "libearly.so")))(*feeds)
    assert_close(out, data["out"], TOL, "output")
    assert_close(st, data["final_state"], 1e-3, "final state")


# ---------------------------------------------------------------------------
# Near misses: one change that makes the graph compute something else.


def _const(m, name):
    for t in m.graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t)
    for n in m.graph.node:
        if n.op_type == "Constant" and n.output[0] == name:
            return numpy_helper.to_array(n.attribute[0].t)
    raise KeyError(name)


def _set_input(m, node, k, value):
    """Gives input `k` of `node` its own new initializer holding `value`."""
    name = f"{node.output[0]}_mutated_{k}"
    m.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    node.input[k] = name


def _nodes(m, op):
    return [n for n in m.graph.node if n.op_type == op]


def _producer(m, value):
    return next(n for n in m.graph.node if value in n.output)


def _swap_scatter_nd_rows(m):
    n = _nodes(m, "ScatterND")[4]  # row 5: indices [[0] .. [4]]
    ind = _const(m, n.input[1]).copy()
    ind[[0, 1]] = ind[[1, 0]]
    _set_input(m, n, 1, ind)


def _flip_mask(m):
    n = next(n for n in _nodes(m, "Where") if "triu" in n.input[0])
    mask = _const(m, n.input[0]).copy()
    mask[0, 1] = False
    _set_input(m, n, 0, mask)


def _eye(m):
    n = next(n for n in _nodes(m, "Add")
             if any(i.startswith("_to_copy") or "eye" in i for i in n.input))
    k = next(j for j, i in enumerate(n.input) if i.startswith("_to_copy") or "eye" in i)
    eye = _const(m, n.input[k]).copy()
    eye[3, 3] = 2.0
    _set_input(m, n, k, eye)


def _trilu_diagonal(m):
    n = _nodes(m, "Trilu")[0]
    _set_input(m, n, 1, np.array(0, np.int64))


def _cumsum_exclusive(m):
    n = _nodes(m, "CumSum")[0]
    del n.attribute[:]
    n.attribute.append(onnx.helper.make_attribute("exclusive", 1))


def _reduce_last_axis(m):
    n = _nodes(m, "ReduceSum")
    n = [x for x in n if _const(m, x.input[1]).tolist() == [-2]][6]
    _set_input(m, n, 1, np.array([-1], np.int64))


def _row_written_below(m):
    # The substitution writes row 5 into row 6 instead.
    n = [x for x in _nodes(m, "ScatterElements")
         if onnx.helper.get_attribute_value(x.attribute[1] if x.attribute[0].name != "axis"
                                            else x.attribute[0]) == 3][4]
    idx = _const(m, n.input[1])
    _set_input(m, n, 1, np.full_like(idx, int(idx.flat[0]) + 1))


def _scale(m):
    # A different query scale is still the rule (with that scale): raised.
    n = next(n for n in _nodes(m, "Mul")
             if any(i in {t.name for t in m.graph.initializer} and
                    _const(m, i).size == 1 and abs(float(_const(m, i)) - 0.25) < 1e-7
                    for i in n.input))
    k = next(j for j, i in enumerate(n.input)
             if i in {t.name for t in m.graph.initializer} and _const(m, i).size == 1)
    _set_input(m, n, k, np.array(0.3, np.float32))


def _chunk_gather(m):
    # The chunk loop reads the next chunk's new values for chunk 1.
    for n in _nodes(m, "Gather"):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        if attrs.get("axis") == 2 and _producer(m, n.input[0]).op_type == "MatMul":
            if int(_const(m, n.input[1])) == 1:
                _set_input(m, n, 1, np.array(2, np.int64))
                return
    raise AssertionError("no chunk gather")


def _chunk_written_twice(m):
    outs = [n for n in _nodes(m, "ScatterElements")
            if {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}.get("axis") == 2]
    idx = _const(m, outs[1].input[1])
    _set_input(m, outs[1], 1, np.full_like(idx, 2))


def _step_gathers(m, i):
    """The Gathers of token i of the recurrent form, in the exporter's order:
    q, k, v, g, beta."""
    return [n for n in _nodes(m, "Gather")
            if {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}.get("axis") == 2
            and int(_const(m, n.input[1])) == i]


def _rec_key_of_next_token(m):
    _set_input(m, _step_gathers(m, 2)[1], 1, np.array(3, np.int64))


def _rec_beta_of_previous_token(m):
    _set_input(m, _step_gathers(m, 4)[4], 1, np.array(3, np.int64))


def _rec_row_written_twice(m):
    n = _nodes(m, "ScatterElements")[1]
    _set_input(m, n, 1, np.full_like(_const(m, n.input[1]), 2))


def _rec_sigmoid_decay(m):
    _nodes(m, "Exp")[3].op_type = "Sigmoid"


def _rec_residual_swapped(m):
    n = _nodes(m, "Sub")[1]
    n.input[0], n.input[1] = n.input[1], n.input[0]


def _rec_state_skips_step(m):
    # Token 3 decays the state after token 1 instead of the one after token 2.
    states = [n.output[0] for n in _nodes(m, "Add")
              if all(_producer(m, i).op_type == "Mul" for i in n.input)]
    n = next(n for n in _nodes(m, "Mul") if states[2] in n.input and
             any(_producer(m, i).op_type == "Unsqueeze" and
                 _producer(m, _producer(m, i).input[0]).op_type == "Exp" for i in n.input))
    n.input[list(n.input).index(states[2])] = states[1]


def _legacy_grid(m, fix):
    """Replaces the computed index grid of the legacy export's second token
    write (ScatterND, indices [B, H, 1, 3] = (b, h, 0, 1)) by a constant
    changed by `fix`."""
    n = _nodes(m, "ScatterND")[1]
    b, h = np.meshgrid(np.arange(2), np.arange(2), indexing="ij")
    grid = np.stack([b, h, np.ones_like(b)], -1)[:, :, None, :].astype(np.int64)
    fix(grid)
    _set_input(m, n, 1, grid)


def _rec_legacy_grid_exact(m):
    _legacy_grid(m, lambda g: None)


def _rec_legacy_grid_one_row_elsewhere(m):
    def fix(g):
        g[1, 1, 0, 2] = 3
    _legacy_grid(m, fix)


def _rec_legacy_grid_heads_swapped(m):
    def fix(g):
        g[:, :, 0, 1] = 1 - g[:, :, 0, 1]
    _legacy_grid(m, fix)


# name: (file, mutation, raised, checked against ONNX Runtime)
MUTATIONS = {
    "scatter_nd_rows_swapped": ("t20", _swap_scatter_nd_rows, False, True),
    "mask_keeps_one_upper": ("t20", _flip_mask, False, False),
    "identity_not_identity": ("t20", _eye, False, False),
    "trilu_keeps_diagonal": ("t20", _trilu_diagonal, False, False),
    "cumsum_exclusive": ("t20", _cumsum_exclusive, False, False),
    "reduce_over_columns": ("t20", _reduce_last_axis, False, False),
    "row_written_below": ("t20", _row_written_below, False, False),
    "other_scale": ("t20", _scale, True, True),
    "chunk_reads_next": ("t130", _chunk_gather, False, True),
    "chunk_written_twice": ("t130", _chunk_written_twice, False, False),
    "rec_key_of_next_token": ("rec_t6", _rec_key_of_next_token, False, True),
    "rec_beta_of_previous_token": ("rec_t6", _rec_beta_of_previous_token, False, True),
    "rec_row_written_twice": ("rec_t6", _rec_row_written_twice, False, True),
    "rec_sigmoid_decay": ("rec_t6", _rec_sigmoid_decay, False, True),
    "rec_residual_swapped": ("rec_t6", _rec_residual_swapped, False, True),
    "rec_state_skips_step": ("rec_t6", _rec_state_skips_step, False, True),
    "rec_legacy_grid_exact": ("rec_t4_legacy", _rec_legacy_grid_exact, True, False),
    "rec_legacy_grid_one_row_elsewhere": ("rec_t4_legacy", _rec_legacy_grid_one_row_elsewhere,
                                          False, True),
    "rec_legacy_grid_heads_swapped": ("rec_t4_legacy", _rec_legacy_grid_heads_swapped, False,
                                      True),
}


@pytest.fixture(scope="module")
def mutated(tmp_path_factory):
    out = tmp_path_factory.mktemp("delta_rule_mutants")

    def get(key):
        base, fn, _, _ = MUTATIONS[key]
        m = onnx.load(_path(base))
        fn(m)
        onnx.checker.check_model(m)
        path = str(out / f"{key}.onnx")
        onnx.save(m, path)
        return path

    return get


@pytest.mark.parametrize("key", sorted(MUTATIONS))
def test_near_miss(mutated, key):
    path = mutated(key)
    raised = MUTATIONS[key][2]
    la = [ln for ln in _gate_ir(path).splitlines() if "= gate.linear_attention" in ln]
    assert len(la) == (1 if raised else 0), la


@pytest.mark.parametrize("key", sorted(k for k, v in MUTATIONS.items() if v[3]))
def test_near_miss_matches_onnxruntime(mutated, tmp_path, key):
    ort = pytest.importorskip("onnxruntime")
    path = mutated(key)
    base = MUTATIONS[key][0]
    _, feeds = _feeds(base)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    want = sess.run(None, {i.name: f for i, f in zip(sess.get_inputs(), feeds)})
    got = gatec.load(gatec.compile(path, str(tmp_path / f"lib{key}.so")))(*feeds)
    got = got if isinstance(got, tuple) else (got,)
    for g, w in zip(got, want):
        assert_close(g, w, TOL, key)
    # And the change did change the result (the test would prove nothing).
    ref = np.load(os.path.join(MODELS, base + ".npz"))["out"]
    assert np.max(np.abs(want[0] - ref)) > 1e-5, "the mutation did not change the result"

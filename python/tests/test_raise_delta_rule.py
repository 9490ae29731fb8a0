"""transformers' chunked gated delta rule as torch 2's dynamo exporter writes it
(scripts/export_delta_rule.py, committed under test/models/delta_rule/ with its
inputs and PyTorch's outputs): the importer recognises the unrolled algorithm
(padding, decay masks, the scatter-based forward substitution, the chunk loop)
and imports it as one gate.linear_attention, which matches PyTorch and the
float64 recurrence. Copies of the files changed in one place, so that they
compute something else, stay unrolled and match ONNX Runtime."""
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import gatec
from kernel_util import REPO, assert_close, have_compiler, run_gatec

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

MODELS = os.path.join(REPO, "test", "models", "delta_rule")
# name: (number of chunks, initial/final state, l2norm inside the rule)
CASES = {"t130": (3, False, True), "t128_state": (2, True, False), "t20": (1, False, True)}
TOL = 1e-4


def _path(name):
    return os.path.join(MODELS, name + ".onnx")


def _recurrence(q, k, v, g, beta, state, l2norm):
    """The gated delta rule token by token in float64: q, k [B,T,H,dk],
    v [B,T,H,dv], g, beta [B,T,H]; returns out [B,T,H,dv] and the state."""
    q, k, v, g, beta = (np.asarray(x, np.float64) for x in (q, k, v, g, beta))
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
    names = ["q", "k", "v", "g", "beta"] + (["state"] if CASES[name][1] else [])
    return data, [data[n] for n in names]


@pytest.mark.parametrize("name", sorted(CASES))
def test_raised_to_one_op(name):
    ir = _gate_ir(_path(name))
    la = [ln for ln in ir.splitlines() if "= gate.linear_attention" in ln]
    assert len(la) == 1 and "gated_delta" in la[0], la
    # Nothing of the unrolled algorithm is left, the final state included.
    assert "scf.for" not in ir and "tensor.insert" not in ir
    assert ("initial_state(" in la[0]) == CASES[name][1], la[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch_and_recurrence(tmp_path, name):
    lib = gatec.load(gatec.compile(_path(name), str(tmp_path / f"lib{name}.so")))
    data, feeds = _feeds(name)
    got = lib(*feeds)
    got = got if isinstance(got, tuple) else (got,)
    assert_close(got[0], data["out"], TOL, f"{name}: output vs PyTorch")
    state = data["state"] if CASES[name][1] else None
    out64, s64 = _recurrence(*feeds[:5], state, CASES[name][2])
    assert_close(got[0], out64, TOL, f"{name}: output vs float64 recurrence")
    if CASES[name][1]:
        assert_close(got[1], data["final_state"], TOL, f"{name}: final state vs PyTorch")
        assert_close(got[1], s64, TOL, f"{name}: final state vs float64 recurrence")


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

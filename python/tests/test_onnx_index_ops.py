"""CumSum, GatherElements, GatherND, ScatterElements (and Scatter), ScatterND and TopK through
gatec: one-node ONNX models compiled into libraries and compared with
onnx.reference.ReferenceEvaluator on random inputs of awkward sizes (dims 1, 7, 65), negative
indices, duplicate indices, f16/bf16/int data, and dynamic dims (one library run at two sizes).

Also the documented run-time behaviour for indices outside [-d, d) (gathers clamp into
[0, d - 1], scatters skip the update), inputs never written by a scatter, and the import
errors (runtime K / axis, bad axes, unsupported reductions, shape mismatches)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import gatec
import kernel_util as ku

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

vi = helper.make_tensor_value_info
TP = TensorProto

try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    BF16 = None

ONNX_TYPE = {np.dtype(np.float32): TP.FLOAT, np.dtype(np.float16): TP.FLOAT16,
             np.dtype(np.float64): TP.DOUBLE, np.dtype(np.int32): TP.INT32,
             np.dtype(np.int64): TP.INT64, np.dtype(np.bool_): TP.BOOL}
if BF16 is not None:
    ONNX_TYPE[BF16] = TP.BFLOAT16

LOWP = {np.dtype(np.float16)} | ({BF16} if BF16 is not None else set())


def _tol(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return 2e-3, 2e-3
    if BF16 is not None and dtype == BF16:
        return 1.6e-2, 1.6e-2
    if dtype.kind == "f":
        return 1e-5, 1e-6
    return 0, 0


def _model(nodes, inputs, outputs, inits=(), opset=18):
    graph = helper.make_graph(nodes, "index_ops", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, ir_version=10,
                             opset_imports=[helper.make_opsetid("", opset)])


def _in(name, arr_or_dtype, shape):
    dt = arr_or_dtype.dtype if isinstance(arr_or_dtype, np.ndarray) else np.dtype(arr_or_dtype)
    return vi(name, ONNX_TYPE[np.dtype(dt)], list(shape))


def _compile(tmp_path, model, name="m"):
    p = tmp_path / f"{name}.onnx"
    onnx.save(model, str(p))
    return gatec.load(gatec.compile(str(p), str(tmp_path / f"lib{name}.so")))


def _as_f32_model(model):
    """The same graph with every low-precision float tensor made f32 (the reference then
    accumulates in f32 as gatec does)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for v in list(m.graph.input) + list(m.graph.output):
        if v.type.tensor_type.elem_type in (TP.FLOAT16, TP.BFLOAT16):
            v.type.tensor_type.elem_type = TP.FLOAT
    return m


def _reference(model, feeds, f32_ref=False):
    """The reference evaluator's results; with `f32_ref`, computed in f32 from the same
    (exactly widened) f16/bf16 inputs, for ops that gatec accumulates in f32."""
    if f32_ref and any(np.dtype(a.dtype) in LOWP for a in feeds.values()):
        model = _as_f32_model(model)
        feeds = {k: (a.astype(np.float32) if np.dtype(a.dtype) in LOWP else a)
                 for k, a in feeds.items()}
    return ReferenceEvaluator(model).run(None, feeds)


def _assert_close(got, want, dtype, what):
    rtol, atol = _tol(dtype)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=rtol, atol=atol, err_msg=what)


def _run_check(tmp_path, model, feed_sets, name="m", dtype=np.float32, lib=None,
               f32_ref=False, ref=None):
    """Compiles `model` once and checks it against the reference on every feed set (dicts
    in graph input order); returns the library. The inputs must come back unchanged.
    `ref(feeds)` replaces the reference evaluator where it cannot take the case."""
    lib = lib or _compile(tmp_path, model, name)
    for feeds in feed_sets:
        before = {k: a.copy() for k, a in feeds.items()}
        got = lib(*[np.ascontiguousarray(a) for a in feeds.values()])
        got = got if isinstance(got, tuple) else (got,)
        want = ref(feeds) if ref else _reference(model, feeds, f32_ref)
        for k, a in feeds.items():
            np.testing.assert_array_equal(a, before[k], err_msg=f"input {k} was modified")
        assert len(got) == len(want)
        shapes = [a.shape for a in feeds.values()]
        for j, (g, w) in enumerate(zip(got, want)):
            # float outputs at the test's tolerance, integer outputs (indices) exactly
            odt = dtype if g.dtype.kind == "f" or g.dtype in LOWP else g.dtype
            _assert_close(g, w, odt, f"{name} output {j} (input shapes {shapes})")
    return lib


def _rand(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return rng.integers(-50, 50, shape).astype(dtype)
    return rng.standard_normal(shape).astype(np.float32).astype(dtype)


def _const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


# --------------------------------------------------------------------------- #
# CumSum
# --------------------------------------------------------------------------- #
CUMSUM_DTYPES = [np.float32, np.float16, np.float64, np.int32, np.int64] + \
    ([BF16] if BF16 is not None else [])


@pytest.mark.parametrize("dtype", CUMSUM_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("exclusive,reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumsum(tmp_path, dtype, exclusive, reverse, axis):
    rng = np.random.default_rng(7 + 3 * exclusive + reverse)
    node = helper.make_node("CumSum", ["x", "axis"], ["y"], name="cumsum_node",
                            exclusive=exclusive, reverse=reverse)
    m = _model([node], [_in("x", dtype, ["b", 65, 7])], [vi("y", ONNX_TYPE[np.dtype(dtype)], None)],
               [_const("axis", np.array(axis, np.int64))])
    _run_check(tmp_path, m, [{"x": _rand(rng, (s, 65, 7), dtype)} for s in (7, 1)],
               dtype=dtype, f32_ref=True)


def test_cumsum_int32_axis_and_position_ids(tmp_path):
    """The exporters' position ids: CumSum(mask, axis=1) - 1 on int64, the axis an int32
    constant (here through a Constant node)."""
    rng = np.random.default_rng(1)
    nodes = [helper.make_node("Constant", [], ["ax"], value=_const("v", np.array(1, np.int32))),
             helper.make_node("CumSum", ["mask", "ax"], ["c"]),
             helper.make_node("Constant", [], ["one"], value=_const("o", np.array(1, np.int64))),
             helper.make_node("Sub", ["c", "one"], ["y"])]
    m = _model(nodes, [_in("mask", np.int64, ["b", "t"])], [vi("y", TP.INT64, None)])
    feeds = [{"mask": rng.integers(0, 2, (b, t)).astype(np.int64)} for b, t in ((2, 65), (1, 1))]
    _run_check(tmp_path, m, feeds, dtype=np.int64)


def test_cumsum_constant_input_folds(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    nodes = [helper.make_node("CumSum", ["c", "ax"], ["s"], reverse=1, exclusive=1),
             helper.make_node("Add", ["x", "s"], ["y"])]
    m = _model(nodes, [_in("x", np.float32, [3, 4])], [vi("y", TP.FLOAT, None)],
               [_const("c", x), _const("ax", np.array(-2, np.int64))])
    _run_check(tmp_path, m, [{"x": np.ones((3, 4), np.float32)}])


# --------------------------------------------------------------------------- #
# GatherElements
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.int32],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32], ids=["i64", "i32"])
def test_gather_elements(tmp_path, dtype, axis, idx_dtype):
    rng = np.random.default_rng(11)
    shape = (7, 65, 1) if axis != 1 else (7, 65, 3)
    a = axis % 3

    def feeds(b):
        d = _rand(rng, (b,) + shape[1:], dtype)
        ishape = list(d.shape)
        ishape[a] = 9
        n = d.shape[a]
        return {"d": d, "i": rng.integers(-n, n, ishape).astype(idx_dtype)}

    dshape = ["b"] + list(shape[1:])
    ishape = list(dshape)
    ishape[a] = 9
    node = helper.make_node("GatherElements", ["d", "i"], ["y"], axis=axis)
    m = _model([node], [_in("d", dtype, dshape), _in("i", idx_dtype, ishape)],
               [vi("y", ONNX_TYPE[np.dtype(dtype)], None)])
    # The reference evaluator's GatherElements (np.choose) takes at most 64 entries along
    # the axis and mishandles a negative axis: it checks the cases it can, numpy (same
    # semantics) the others.
    use_np = shape[a] > 64 or axis < 0

    def np_ref(f):
        d, i = f["d"], f["i"]
        return [np.take_along_axis(d, np.where(i < 0, i + d.shape[a], i).astype(np.int64), a)]

    _run_check(tmp_path, m, [feeds(7), feeds(1)], dtype=dtype, ref=np_ref if use_np else None)


def test_gather_elements_smaller_indices(tmp_path):
    """indices may be smaller than data along the other axes (ONNX Runtime allows it); the
    reference evaluator does not, so numpy is the reference here."""
    rng = np.random.default_rng(2)
    d = _rand(rng, (7, 65), np.float32)
    i = rng.integers(-65, 65, (5, 3)).astype(np.int64)
    m = _model([helper.make_node("GatherElements", ["d", "i"], ["y"], axis=1)],
               [_in("d", np.float32, [7, 65]), _in("i", np.int64, [5, 3])],
               [vi("y", TP.FLOAT, None)])
    (got,) = _compile(tmp_path, m)(d, i)
    want = np.take_along_axis(d[:5], np.where(i < 0, i + 65, i), axis=1)
    np.testing.assert_array_equal(got, want)


def test_gather_elements_out_of_range_clamps(tmp_path):
    d = np.arange(7 * 5, dtype=np.float32).reshape(7, 5)
    i = np.array([[-100, 7, 6, -8, 1000]] * 2, np.int64)
    m = _model([helper.make_node("GatherElements", ["d", "i"], ["y"], axis=0)],
               [_in("d", np.float32, ["n", 5]), _in("i", np.int64, [2, 5])],
               [vi("y", TP.FLOAT, None)])
    lib = _compile(tmp_path, m)
    for n in (7, 3):
        dd = d[:n].copy()
        w = np.where(i < 0, i + n, i)
        (got,) = lib(dd, i)
        np.testing.assert_array_equal(got, np.take_along_axis(dd, np.clip(w, 0, n - 1), axis=0))
    # An empty data axis at run time reads zeros instead of memory outside the tensor.
    (got,) = lib(np.zeros((0, 5), np.float32), i)
    np.testing.assert_array_equal(got, np.zeros((2, 5), np.float32))


# --------------------------------------------------------------------------- #
# GatherND
# --------------------------------------------------------------------------- #
GATHERND_CASES = [
    # data shape, indices shape (last = m), batch_dims
    ((7, 65), (5, 1), 0),
    ((7, 65), (5, 2), 0),
    ((7, 1, 65), (3, 4, 2), 0),
    ((7, 1, 65), (3, 4, 3), 0),
    ((7, 9, 65), (7, 4, 1), 1),
    ((7, 9, 65), (7, 2), 1),
    ((7, 9, 3, 5), (7, 9, 4, 1), 2),
    ((7, 9, 3, 5), (7, 9, 2), 2),
]


@pytest.mark.parametrize("dshape,ishape,bd", GATHERND_CASES,
                         ids=[f"{d}-{i}-b{b}" for d, i, b in GATHERND_CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64],
                         ids=lambda d: np.dtype(d).name)
def test_gather_nd(tmp_path, dshape, ishape, bd, dtype):
    rng = np.random.default_rng(3)
    m_ = ishape[-1]
    # dynamic first dim (shared with indices when batch_dims > 0)
    dsym = ["n"] + list(dshape[1:])
    isym = (["n"] if bd > 0 else ["k"]) + list(ishape[1:])

    def feeds(n):
        ds = (n,) + dshape[1:]
        is_ = ((n,) if bd > 0 else (ishape[0] + n % 3,)) + ishape[1:]
        d = _rand(rng, ds, dtype)
        idx = np.empty(is_, np.int64)
        for j in range(m_):
            s = ds[bd + j]
            idx[..., j] = rng.integers(-s, s, is_[:-1])
        return {"d": d, "i": idx}

    node = helper.make_node("GatherND", ["d", "i"], ["y"], batch_dims=bd)
    m = _model([node], [_in("d", dtype, dsym), _in("i", np.int64, isym)],
               [vi("y", ONNX_TYPE[np.dtype(dtype)], None)])
    _run_check(tmp_path, m, [feeds(dshape[0]), feeds(1) if bd == 0 else feeds(2)], dtype=dtype)


def test_gather_nd_out_of_range_clamps(tmp_path):
    d = np.arange(4 * 3, dtype=np.float32).reshape(4, 3)
    i = np.array([[9, -9], [-1, 2], [4, 3]], np.int64)
    m = _model([helper.make_node("GatherND", ["d", "i"], ["y"])],
               [_in("d", np.float32, [4, 3]), _in("i", np.int64, [3, 2])],
               [vi("y", TP.FLOAT, None)])
    (got,) = _compile(tmp_path, m)(d, i)
    np.testing.assert_array_equal(got, np.array([d[3, 0], d[3, 2], d[3, 2]], np.float32))


# --------------------------------------------------------------------------- #
# ScatterElements / Scatter
# --------------------------------------------------------------------------- #
REDUCTIONS = ["none", "add", "mul", "max", "min"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axis", [0, -1])
def test_scatter_elements(tmp_path, reduction, dtype, axis):
    """Duplicate and negative indices; 'none' with duplicates: the last write in index order
    wins (as the reference applies them)."""
    rng = np.random.default_rng(5)
    a = axis % 3

    def feeds(n):
        d = _rand(rng, (n, 65, 7), dtype)
        ishape = [n, 65, 7]
        ishape[a] = 9 if a != 0 else n + 2
        size = d.shape[a]
        i = rng.integers(-size, size, ishape).astype(np.int64)
        u = _rand(rng, ishape, dtype)
        if reduction == "mul" and np.dtype(dtype).kind == "f":
            u = (1 + 0.1 * u.astype(np.float32)).astype(dtype)
        return {"d": d, "i": i, "u": u}

    ishape = ["n", 65, 7]
    ishape[a] = 9 if a != 0 else "k"
    attrs = {} if reduction == "none" else {"reduction": reduction}
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], axis=axis, **attrs)
    m = _model([node], [_in("d", dtype, ["n", 65, 7]), _in("i", np.int64, ishape),
                        _in("u", dtype, ishape)],
               [vi("y", ONNX_TYPE[np.dtype(dtype)], None)])
    _run_check(tmp_path, m, [feeds(7), feeds(1)], dtype=dtype)


def test_scatter_elements_add_many_duplicates(tmp_path):
    """Every update hits one of 3 rows: the sums must see all of them, in f32 and i32 index."""
    rng = np.random.default_rng(9)
    d = _rand(rng, (3, 65), np.float32)
    i = rng.integers(-3, 3, (65, 65)).astype(np.int32)
    u = _rand(rng, (65, 65), np.float32)
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], axis=0, reduction="add")
    m = _model([node], [_in("d", np.float32, [3, 65]), _in("i", np.int32, [65, 65]),
                        _in("u", np.float32, [65, 65])], [vi("y", TP.FLOAT, None)])
    _run_check(tmp_path, m, [{"d": d, "i": i, "u": u}])


def test_scatter_opset10_alias(tmp_path):
    rng = np.random.default_rng(4)
    d = _rand(rng, (7, 5), np.float32)
    i = np.array([[1, -1, 0, 6, 2]], np.int64)
    u = _rand(rng, (1, 5), np.float32)
    node = helper.make_node("Scatter", ["d", "i", "u"], ["y"], axis=0)
    m = _model([node], [_in("d", np.float32, [7, 5]), _in("i", np.int64, [1, 5]),
                        _in("u", np.float32, [1, 5])], [vi("y", TP.FLOAT, None)], opset=10)
    # The reference evaluator has no Scatter: its ScatterElements function is the same op.
    from onnx.reference.ops.op_scatter_elements import scatter_elements
    _run_check(tmp_path, m, [{"d": d, "i": i, "u": u}],
               ref=lambda f: [scatter_elements(f["d"], f["i"], f["u"], axis=0)])


def test_scatter_elements_bf16(tmp_path):
    if BF16 is None:
        pytest.skip("ml_dtypes not installed")
    rng = np.random.default_rng(6)
    d = _rand(rng, (7, 65), BF16)
    i = rng.integers(-7, 7, (9, 65)).astype(np.int64)
    u = _rand(rng, (9, 65), BF16)
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], axis=0, reduction="max")
    m = _model([node], [_in("d", BF16, [7, 65]), _in("i", np.int64, [9, 65]),
                        _in("u", BF16, [9, 65])], [vi("y", TP.BFLOAT16, None)])
    _run_check(tmp_path, m, [{"d": d, "i": i, "u": u}], dtype=BF16)


def test_scatter_elements_out_of_range_skipped(tmp_path):
    d = np.zeros((4, 3), np.float32)
    i = np.array([[4, -5, 1], [100, 0, -1]], np.int64)
    u = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], axis=0, reduction="add")
    m = _model([node], [_in("d", np.float32, ["n", 3]), _in("i", np.int64, [2, 3]),
                        _in("u", np.float32, [2, 3])], [vi("y", TP.FLOAT, None)])
    (got,) = _compile(tmp_path, m)(d, i, u)
    want = np.zeros((4, 3), np.float32)
    want[1, 2] += 3
    want[0, 1] += 5
    want[3, 2] += 6
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(d, np.zeros((4, 3), np.float32))


# --------------------------------------------------------------------------- #
# ScatterND
# --------------------------------------------------------------------------- #
SCATTERND_CASES = [
    # data shape, indices shape (last = m)
    ((7, 65), (3, 1)),
    ((7, 65), (5, 2)),
    ((7, 1, 65), (2, 3, 2)),
    ((7, 9, 65), (4, 3)),
    ((7, 9, 65), (1, 1)),
]


@pytest.mark.parametrize("dshape,ishape", SCATTERND_CASES,
                         ids=[f"{d}-{i}" for d, i in SCATTERND_CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_scatter_nd(tmp_path, dshape, ishape, reduction):
    rng = np.random.default_rng(12)
    m_ = ishape[-1]
    dtype = np.float32

    def feeds(n):
        ds = (n,) + dshape[1:]
        idx = np.empty(ishape, np.int64)
        for j in range(m_):
            s = ds[j]
            idx[..., j] = rng.integers(-s, s, ishape[:-1])
        # Duplicates included: with 'none' ONNX leaves them undefined; gatec and the
        # reference both apply the updates in index order (the last write wins).
        ushape = ishape[:-1] + ds[m_:]
        u = _rand(rng, ushape, dtype)
        if reduction == "mul":
            u = (1 + 0.1 * u).astype(dtype)
        return {"d": _rand(rng, ds, dtype), "i": idx, "u": u}

    dsym = ["n"] + list(dshape[1:])
    usym = list(ishape[:-1]) + dsym[m_:]
    attrs = {} if reduction == "none" else {"reduction": reduction}
    node = helper.make_node("ScatterND", ["d", "i", "u"], ["y"], **attrs)
    m = _model([node], [_in("d", dtype, dsym), _in("i", np.int64, list(ishape)),
                        _in("u", dtype, usym)], [vi("y", TP.FLOAT, None)])
    _run_check(tmp_path, m, [feeds(7), feeds(2)])


def test_scatter_nd_kv_cache_update_f16(tmp_path):
    """A KV-cache style update: rows of [B, T, D] written at (b, t) positions, f16, dynamic T."""
    rng = np.random.default_rng(13)
    node = helper.make_node("ScatterND", ["cache", "pos", "new"], ["y"])
    m = _model([node], [_in("cache", np.float16, [2, "t", 65]), _in("pos", np.int64, [2, 1, 2]),
                        _in("new", np.float16, [2, 1, 65])], [vi("y", TP.FLOAT16, None)])
    sets = []
    for t in (7, 65):
        pos = np.array([[[0, t - 1]], [[1, -t]]], np.int64)
        sets.append({"cache": _rand(rng, (2, t, 65), np.float16), "pos": pos,
                     "new": _rand(rng, (2, 1, 65), np.float16)})
    _run_check(tmp_path, m, sets, dtype=np.float16)


def test_scatter_nd_out_of_range_skipped(tmp_path):
    d = np.zeros((3, 2), np.float32)
    i = np.array([[3], [-4], [-1], [1]], np.int64)
    u = np.arange(8, dtype=np.float32).reshape(4, 2)
    node = helper.make_node("ScatterND", ["d", "i", "u"], ["y"])
    m = _model([node], [_in("d", np.float32, [3, 2]), _in("i", np.int64, [4, 1]),
                        _in("u", np.float32, [4, 2])], [vi("y", TP.FLOAT, None)])
    (got,) = _compile(tmp_path, m)(d, i, u)
    np.testing.assert_array_equal(got, np.array([[0, 0], [6, 7], [4, 5]], np.float32))


# --------------------------------------------------------------------------- #
# indices anywhere in the integer range, sizes that disagree at run time: the documented
# policy (gathers clamp, scatters skip), never a crash or a write outside the output
# --------------------------------------------------------------------------- #
def _extreme_indices(rng, shape, dtype, d):
    info = np.iinfo(dtype)
    pool = np.array([info.min, info.min + 1, -d - 1, -d, -1, 0, d - 1, d, d + 1, info.max],
                    dtype=np.int64)
    pool = pool[(pool >= info.min) & (pool <= info.max)]
    return rng.choice(pool, size=shape).astype(dtype)


def _wrap(i, d):
    i = i.astype(np.int64)
    return np.where(i < 0, i + d, i)


@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32], ids=["i64", "i32"])
def test_extreme_indices_gather_elements(tmp_path, idx_dtype):
    rng = np.random.default_rng(41)
    node = helper.make_node("GatherElements", ["d", "i"], ["y"], axis=1)
    m = _model([node], [_in("d", np.float32, ["n", "a"]), _in("i", idx_dtype, ["m", 9])],
               [vi("y", TP.FLOAT, None)])
    lib = _compile(tmp_path, m)
    for n, a, mm in ((7, 65, 7), (3, 5, 7), (1, 1, 65), (4, 1, 2)):
        d = _rand(rng, (n, a), np.float32)
        i = _extreme_indices(rng, (mm, 9), idx_dtype, a)
        (got,) = lib(d, i)
        # rows beyond data's are clamped too (indices larger than data on a non-axis dim)
        rows = np.clip(np.arange(mm), 0, n - 1)[:, None]
        want = d[rows, np.clip(_wrap(i, a), 0, a - 1)]
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32], ids=["i64", "i32"])
def test_extreme_indices_gather_nd(tmp_path, idx_dtype):
    rng = np.random.default_rng(42)
    node = helper.make_node("GatherND", ["d", "i"], ["y"])
    m = _model([node], [_in("d", np.float32, ["n", "a", 3]), _in("i", idx_dtype, ["m", 2])],
               [vi("y", TP.FLOAT, None)])
    lib = _compile(tmp_path, m)
    for n, a, mm in ((7, 65, 33), (1, 1, 9)):
        d = _rand(rng, (n, a, 3), np.float32)
        i = np.stack([_extreme_indices(rng, (mm,), idx_dtype, n),
                      _extreme_indices(rng, (mm,), idx_dtype, a)], axis=1)
        (got,) = lib(d, i)
        want = d[np.clip(_wrap(i[:, 0], n), 0, n - 1), np.clip(_wrap(i[:, 1], a), 0, a - 1)]
        np.testing.assert_array_equal(got, want)
    # empty data: zeros, no read
    (got,) = lib(np.zeros((0, 4, 3), np.float32), np.zeros((5, 2), idx_dtype))
    np.testing.assert_array_equal(got, np.zeros((5, 3), np.float32))


@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32], ids=["i64", "i32"])
def test_extreme_indices_scatter_elements(tmp_path, idx_dtype):
    rng = np.random.default_rng(43)
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], axis=0, reduction="add")
    m = _model([node], [_in("d", np.float32, ["n", "a"]), _in("i", idx_dtype, ["m", "b"]),
                        _in("u", np.float32, ["k", "c"])], [vi("y", TP.FLOAT, None)])
    lib = _compile(tmp_path, m)
    # indices/updates/data disagree on purpose (invalid models): the loops run over the
    # common extent only.
    for n, a, (mi, bi), (ku_, cu) in ((7, 65, (9, 65), (9, 65)), (3, 5, (9, 7), (8, 6)),
                                      (0, 4, (3, 4), (3, 4)), (4, 1, (2, 3), (5, 1))):
        d = _rand(rng, (n, a), np.float32)
        i = _extreme_indices(rng, (mi, bi), idx_dtype, max(n, 1))
        u = _rand(rng, (ku_, cu), np.float32)
        before = d.copy()
        (got,) = lib(d, i, u)
        want = d.copy()
        for r in range(min(mi, ku_)):
            for c in range(min(bi, cu, a)):
                t = int(_wrap(np.array(i[r, c]), n))
                if 0 <= t < n:
                    want[t, c] += u[r, c]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(d, before)


@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32], ids=["i64", "i32"])
def test_extreme_indices_scatter_nd(tmp_path, idx_dtype):
    rng = np.random.default_rng(44)
    node = helper.make_node("ScatterND", ["d", "i", "u"], ["y"])
    m = _model([node], [_in("d", np.float32, ["n", "a", "c"]), _in("i", idx_dtype, ["m", 2]),
                        _in("u", np.float32, ["k", "e"])], [vi("y", TP.FLOAT, None)])
    lib = _compile(tmp_path, m)
    for n, a, c, mi, (ku_, eu) in ((7, 65, 3, 40, (40, 3)), (2, 3, 4, 9, (5, 2)),
                                   (0, 3, 2, 4, (4, 2))):
        d = _rand(rng, (n, a, c), np.float32)
        i = np.stack([_extreme_indices(rng, (mi,), idx_dtype, max(n, 1)),
                      _extreme_indices(rng, (mi,), idx_dtype, a)], axis=1)
        u = _rand(rng, (ku_, eu), np.float32)
        (got,) = lib(d, i, u)
        want = d.copy()
        for r in range(min(mi, ku_)):
            t0, t1 = int(_wrap(np.array(i[r, 0]), n)), int(_wrap(np.array(i[r, 1]), a))
            if 0 <= t0 < n and 0 <= t1 < a:
                want[t0, t1, :min(c, eu)] = u[r, :min(c, eu)]
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- #
# TopK
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.int32, np.float64],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("largest", [1, 0])
@pytest.mark.parametrize("axis,k", [(-1, 1), (-1, 5), (-1, 65), (0, 3), (1, 7)])
def test_topk(tmp_path, dtype, largest, axis, k):
    """Few distinct values, so ties are common: the lower index comes first."""
    rng = np.random.default_rng(21)
    # the dynamic dim is never the axis for axis 0 (K must fit a static axis or be checked
    # at run time): batch for the others, the last dim for axis 0
    if axis == 0:
        shape, sizes = [7, 9, "t"], [(7, 9, 65), (7, 9, 1)]
    else:
        shape, sizes = ["b", 9, 65], [(7, 9, 65), (1, 9, 65)]
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=axis, largest=largest)
    m = _model([node], [_in("x", dtype, shape)],
               [vi("v", ONNX_TYPE[np.dtype(dtype)], None), vi("i", TP.INT64, None)],
               [_const("k", np.array([k], np.int64))])
    _run_check(tmp_path, m, [{"x": rng.integers(-4, 5, sz).astype(dtype)} for sz in sizes],
               dtype=dtype)


def test_topk_random_floats_unsorted_attr(tmp_path):
    rng = np.random.default_rng(22)
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1, largest=1, sorted=0)
    m = _model([node], [_in("x", np.float32, ["b", 65])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)],
               [_const("k", np.array([10], np.int64))])
    _run_check(tmp_path, m, [{"x": _rand(rng, (b, 65), np.float32)} for b in (7, 1)])


def test_topk_bf16(tmp_path):
    if BF16 is None:
        pytest.skip("ml_dtypes not installed")
    rng = np.random.default_rng(23)
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1)
    m = _model([node], [_in("x", BF16, [7, 65])],
               [vi("v", TP.BFLOAT16, None), vi("i", TP.INT64, None)],
               [_const("k", np.array([4], np.int64))])
    x = _rand(rng, (7, 65), BF16)
    lib = _compile(tmp_path, m)
    v, i = lib(x)
    xf = x.astype(np.float32)
    order = np.lexsort((np.broadcast_to(np.arange(65), xf.shape), -xf), axis=-1)[:, :4]
    np.testing.assert_array_equal(i, order)
    np.testing.assert_array_equal(v.astype(np.float32), np.take_along_axis(xf, order, -1))


def test_topk_nan_counts_as_largest(tmp_path):
    x = np.array([[1.0, np.nan, 3.0, np.nan, -2.0]], np.float32)
    for largest, want_i in ((1, [1, 3, 2, 0]), (0, [4, 0, 2, 1])):
        node = helper.make_node("TopK", ["x", "k"], ["v", "i"], largest=largest)
        m = _model([node], [_in("x", np.float32, [1, 5])],
                   [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)],
                   [_const("k", np.array([4], np.int64))])
        v, i = _compile(tmp_path, m, f"nan{largest}")(x)
        np.testing.assert_array_equal(i[0], want_i)
        np.testing.assert_array_equal(v[0], x[0, want_i])


def test_topk_opset1_attribute_k(tmp_path):
    rng = np.random.default_rng(24)
    node = helper.make_node("TopK", ["x"], ["v", "i"], k=3, axis=1)
    m = _model([node], [_in("x", np.float32, [7, 65])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)], opset=9)
    _run_check(tmp_path, m, [{"x": _rand(rng, (7, 65), np.float32)}])


@pytest.mark.parametrize("largest", [1, 0])
def test_topk_full_sort_dynamic_k(tmp_path, largest):
    """K = Shape(x)[axis] (how exporters sort MoE routing): a full, stable sort of a
    dynamic-length axis; K computed otherwise stays an import-time error."""
    rng = np.random.default_rng(25)
    nodes = [helper.make_node("Shape", ["x"], ["s"], start=1, end=2),
             helper.make_node("TopK", ["x", "s"], ["v", "i"], axis=1, largest=largest)]
    m = _model(nodes, [_in("x", np.float32, [3, "t"])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)])
    _run_check(tmp_path, m, [{"x": rng.integers(-3, 4, (3, t)).astype(np.float32)}
                             for t in (1, 5, 70)])
    # K = Shape(x)[0] on axis 1: not the axis' length, rejected.
    bad = [helper.make_node("Shape", ["x"], ["s"], start=0, end=1),
           helper.make_node("TopK", ["x", "s"], ["v", "i"], axis=1, largest=largest)]
    m = _model(bad, [_in("x", np.float32, ["b", "t"])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)])
    with pytest.raises(gatec.Error, match="K input 's' must be a constant"):
        _compile(tmp_path, m, "bad")


def test_topk_k0_and_empty_rows(tmp_path):
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1)
    for k in (0, 2):
        m = _model([node], [_in("x", np.float32, ["b", 5])],
                   [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)],
                   [_const("k", np.array([k], np.int64))])
        lib = _compile(tmp_path, m, f"k{k}")
        for b in (3, 0):
            x = np.arange(b * 5, dtype=np.float32).reshape(b, 5)
            v, i = lib(x)
            assert v.shape == (b, k) and i.shape == (b, k)
            np.testing.assert_array_equal(i, np.tile(np.arange(4, 4 - k, -1), (b, 1)))


def test_topk_axis_shorter_than_k_at_run_time(tmp_path):
    """Invalid per ONNX (K > axis size); the library stays in bounds: the missing slots hold
    value 0 and index -1."""
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1)
    m = _model([node], [_in("x", np.float32, [2, "t"])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)],
               [_const("k", np.array([4], np.int64))])
    lib = _compile(tmp_path, m)
    x = np.array([[5, 7], [2, 1]], np.float32)
    v, i = lib(x)
    np.testing.assert_array_equal(i, [[1, 0, -1, -1], [0, 1, -1, -1]])
    np.testing.assert_array_equal(v, [[7, 5, 0, 0], [2, 1, 0, 0]])


# --------------------------------------------------------------------------- #
# several ops in one graph (an exporter-like pattern): router top-k + gather + scatter
# --------------------------------------------------------------------------- #
def test_router_pattern(tmp_path):
    rng = np.random.default_rng(31)
    nodes = [
        helper.make_node("TopK", ["logits", "k"], ["w", "sel"], axis=-1),
        helper.make_node("GatherElements", ["logits", "sel"], ["g"], axis=1),
        helper.make_node("ScatterElements", ["zeros", "sel", "w"], ["dense"], axis=1),
        helper.make_node("CumSum", ["dense", "ax"], ["y"]),
    ]
    m = _model(nodes, [_in("logits", np.float32, ["t", 65]), _in("zeros", np.float32, ["t", 65])],
               [vi("g", TP.FLOAT, None), vi("y", TP.FLOAT, None)],
               [_const("k", np.array([7], np.int64)), _const("ax", np.array(1, np.int32))])

    def np_ref(f):  # the reference evaluator's GatherElements mishandles [t, 7] of [t, 65]
        x = f["logits"]
        sel = np.argsort(-x, axis=1, kind="stable")[:, :7]
        w = np.take_along_axis(x, sel, 1)
        dense = f["zeros"].copy()
        np.put_along_axis(dense, sel, w, 1)
        return [w, np.cumsum(dense, axis=1)]

    _run_check(tmp_path, m, [{"logits": _rand(rng, (t, 65), np.float32),
                              "zeros": np.zeros((t, 65), np.float32)} for t in (7, 1)],
               ref=np_ref)


# --------------------------------------------------------------------------- #
# import errors
# --------------------------------------------------------------------------- #
def _fails(tmp_path, model, *words, name="bad"):
    p = tmp_path / f"{name}.onnx"
    onnx.save(model, str(p))
    proc = ku.run_gatec([str(p), "-o", str(tmp_path / f"lib{name}.so")])
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr}"
    assert proc.returncode == 1, f"exit status {proc.returncode}: {proc.stderr}"
    assert proc.stderr.startswith("gatec: error:"), proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr, f"{w!r} not in {proc.stderr!r}"
    return proc.stderr


def test_error_topk_runtime_k(tmp_path):
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk_rt")
    m = _model([node], [_in("x", np.float32, [3, 4]), _in("k", np.int64, [1])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)])
    _fails(tmp_path, m, "topk_rt", "(TopK)", "K input 'k'", "constant")


def test_error_topk_k_too_large(tmp_path):
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk_big")
    m = _model([node], [_in("x", np.float32, [3, 4])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)],
               [_const("k", np.array([5], np.int64))])
    _fails(tmp_path, m, "topk_big", "(TopK)", "K (5)", "(4)")


def test_error_topk_bad_largest(tmp_path):
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk_attr", largest=2)
    m = _model([node], [_in("x", np.float32, [3, 4])],
               [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)],
               [_const("k", np.array([2], np.int64))])
    _fails(tmp_path, m, "topk_attr", "'largest'", "0 or 1")


def test_error_cumsum_runtime_axis(tmp_path):
    node = helper.make_node("CumSum", ["x", "axis"], ["y"], name="cs_rt")
    m = _model([node], [_in("x", np.float32, [3, 4]), _in("axis", np.int64, [])],
               [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "cs_rt", "(CumSum)", "axis input 'axis'", "constant")


def test_error_cumsum_bad_axis(tmp_path):
    node = helper.make_node("CumSum", ["x", "axis"], ["y"], name="cs_axis")
    m = _model([node], [_in("x", np.float32, [3, 4])], [vi("y", TP.FLOAT, None)],
               [_const("axis", np.array(2, np.int64))])
    _fails(tmp_path, m, "cs_axis", "(CumSum)", "axis 2 is out of range for rank 2")


def test_error_cumsum_bool(tmp_path):
    node = helper.make_node("CumSum", ["x", "axis"], ["y"], name="cs_bool")
    m = _model([node], [_in("x", np.bool_, [3, 4])], [vi("y", TP.BOOL, None)],
               [_const("axis", np.array(0, np.int64))])
    _fails(tmp_path, m, "cs_bool", "(CumSum)", "float, int32 or int64")


def test_error_gather_elements_bad_axis(tmp_path):
    node = helper.make_node("GatherElements", ["d", "i"], ["y"], name="ge_axis", axis=-3)
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [3, 4])],
               [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "ge_axis", "(GatherElements)", "axis -3 is out of range for rank 2")


def test_error_gather_elements_rank_mismatch(tmp_path):
    node = helper.make_node("GatherElements", ["d", "i"], ["y"], name="ge_rank")
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [3])],
               [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "ge_rank", "(GatherElements)", "rank of data (2)", "rank 1")


def test_error_gather_elements_float_indices(tmp_path):
    node = helper.make_node("GatherElements", ["d", "i"], ["y"], name="ge_float")
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.float32, [3, 4])],
               [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "ge_float", "indices must be int32 or int64")


def test_error_gather_elements_constant_index_out_of_range(tmp_path):
    node = helper.make_node("GatherElements", ["d", "i"], ["y"], name="ge_const")
    m = _model([node], [_in("d", np.float32, [3, 4])], [vi("y", TP.FLOAT, None)],
               [_const("i", np.array([[0, 1, 3, -4]], np.int64))])
    _fails(tmp_path, m, "ge_const", "index 3 is out of range", "size 3")


def test_error_gather_nd_batch_dims(tmp_path):
    node = helper.make_node("GatherND", ["d", "i"], ["y"], name="gnd_bd", batch_dims=2)
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [3, 1])],
               [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "gnd_bd", "(GatherND)", "batch_dims 2")


def test_error_gather_nd_index_tuple_too_long(tmp_path):
    node = helper.make_node("GatherND", ["d", "i"], ["y"], name="gnd_m")
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [5, 3])],
               [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "gnd_m", "(GatherND)", "last dimension of indices (3)")


def test_error_gather_nd_dynamic_tuple(tmp_path):
    node = helper.make_node("GatherND", ["d", "i"], ["y"], name="gnd_dyn")
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [5, "m"])],
               [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "gnd_dyn", "(GatherND)", "last dimension of indices must be static")


@pytest.mark.parametrize("op,name,ishape,reduction", [
    ("ScatterElements", "se_red", [2, 4], "mean"),
    ("ScatterND", "snd_red", [2, 1], "avg"),
], ids=["elements", "nd"])
def test_error_scatter_unsupported_reduction(tmp_path, op, name, ishape, reduction):
    node = helper.make_node(op, ["d", "i", "u"], ["y"], name=name, reduction=reduction)
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, ishape),
                        _in("u", np.float32, [2, 4])], [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, name, f"({op})", f"unsupported reduction '{reduction}'")


def test_error_scatter_elements_shapes_differ(tmp_path):
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], name="se_shape")
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [2, 4]),
                        _in("u", np.float32, [2, 3])], [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "se_shape", "(ScatterElements)", "indices shape [2, 4]",
           "updates shape [2, 3]")


def test_error_scatter_nd_updates_shape(tmp_path):
    node = helper.make_node("ScatterND", ["d", "i", "u"], ["y"], name="snd_shape")
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [2, 1]),
                        _in("u", np.float32, [2, 5])], [vi("y", TP.FLOAT, None)])
    _fails(tmp_path, m, "snd_shape", "(ScatterND)", "updates shape [2, 5]")


def test_error_scatter_elements_bool_add(tmp_path):
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], name="se_bool",
                            reduction="add")
    m = _model([node], [_in("d", np.bool_, [3, 4]), _in("i", np.int64, [2, 4]),
                        _in("u", np.bool_, [2, 4])], [vi("y", TP.BOOL, None)])
    _fails(tmp_path, m, "se_bool", "reduction 'add' is not supported for bool")


def test_error_scatter_with_reduction_attribute(tmp_path):
    node = helper.make_node("Scatter", ["d", "i", "u"], ["y"], name="sc_red", reduction="add")
    m = _model([node], [_in("d", np.float32, [3, 4]), _in("i", np.int64, [2, 4]),
                        _in("u", np.float32, [2, 4])], [vi("y", TP.FLOAT, None)], opset=10)
    _fails(tmp_path, m, "sc_red", "(Scatter)", "'reduction'")


def test_error_new_ops_need_opset_11(tmp_path):
    node = helper.make_node("CumSum", ["x", "axis"], ["y"], name="cs_old")
    m = _model([node], [_in("x", np.float32, [3, 4])], [vi("y", TP.FLOAT, None)],
               [_const("axis", np.array(0, np.int64))], opset=10)
    _fails(tmp_path, m, "cs_old", "'CumSum' needs opset 11")


# --------------------------------------------------------------------------- #
# Slice with negative steps on dynamic dims: torch.flip's whole-axis reversal
# (start -1, end INT64_MIN), several axes at once, a reversal reversed back,
# and run-time starts/ends with ONNX's clamping.
# --------------------------------------------------------------------------- #
INT64_MIN = -(2 ** 63)


@pytest.mark.parametrize("axes", [[0], [1], [2], [0, 2], [2, 1]], ids=str)
def test_slice_flip_dynamic(tmp_path, axes):
    n = len(axes)
    inits = [_const("s", [-1] * n), _const("e", [INT64_MIN] * n), _const("a", axes),
             _const("st", [-1] * n)]
    model = _model([helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"])],
                   [_in("x", np.float32, ["d0", "d1", "d2"])],
                   [_in("y", np.float32, ["d0", "d1", "d2"])], inits)
    rng = np.random.default_rng(3)
    _run_check(tmp_path, model, [{"x": _rand(rng, s, np.float32)}
                                 for s in ((2, 7, 5), (1, 65, 3), (3, 1, 1))])


def test_slice_flip_twice_is_identity(tmp_path):
    inits = [_const("s", [-1]), _const("e", [INT64_MIN]), _const("a", [1]), _const("st", [-1])]
    nodes = [helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["r"]),
             helper.make_node("Slice", ["r", "s", "e", "a", "st"], ["y"])]
    model = _model(nodes, [_in("x", np.float32, ["b", "t", 4])],
                   [_in("y", np.float32, ["b", "t", 4])], inits)
    rng = np.random.default_rng(4)
    _run_check(tmp_path, model, [{"x": _rand(rng, (2, t, 4), np.float32)} for t in (1, 9)])


@pytest.mark.parametrize("step", [-1, -2, -3])
def test_slice_negative_step_runtime_bounds(tmp_path, step):
    # starts/ends are graph inputs; the reduction over the sliced axis keeps
    # the output's shape expressible in the input shapes
    inits = [_const("a", [1]), _const("st", [step])]
    nodes = [helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"]),
             helper.make_node("ReduceSum", ["y"], ["z"], keepdims=1, axes=[1])]
    model = _model(nodes, [_in("x", np.float32, ["b", "t"]), _in("s", np.int64, [1]),
                           _in("e", np.int64, [1])],
                   [_in("z", np.float32, ["b", 1])], inits, opset=13)
    rng = np.random.default_rng(5)
    feeds = []
    for t in (1, 7, 65):
        for s, e in ((-1, INT64_MIN), (t + 5, -t - 9), (t - 2, 0), (-3, -t + 1), (0, 5),
                     (2, 2), (-t - 4, -1)):
            feeds.append({"x": _rand(rng, (2, t), np.float32),
                          "s": np.array([s], np.int64), "e": np.array([e], np.int64)})
    _run_check(tmp_path, model, feeds)


@pytest.mark.parametrize("batch_axis,time_axis", [(1, 0), (0, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.int64], ids=lambda d: np.dtype(d).name)
def test_reverse_sequence(tmp_path, batch_axis, time_axis, dtype):
    model = _model([helper.make_node("ReverseSequence", ["x", "lens"], ["y"],
                                     batch_axis=batch_axis, time_axis=time_axis)],
                   [_in("x", dtype, ["d0", "d1", 3]), _in("lens", np.int64, ["b"])],
                   [_in("y", dtype, ["d0", "d1", 3])])
    rng = np.random.default_rng(6)
    feeds = []
    for b, t in ((4, 7), (1, 1), (3, 65)):
        shape = [0, 0, 3]
        shape[batch_axis], shape[time_axis] = b, t
        lens = rng.integers(0, t + 1, b).astype(np.int64)
        lens[0] = t
        feeds.append({"x": _rand(rng, tuple(shape), dtype), "lens": lens})
    _run_check(tmp_path, model, feeds)


def test_reverse_sequence_constant_whole_lengths(tmp_path):
    # every length equals T: a whole reversal (twice: the identity)
    inits = [_const("lens", np.array([5, 5], np.int64))]
    nodes = [helper.make_node("ReverseSequence", ["x", "lens"], ["r"], batch_axis=0,
                              time_axis=1),
             helper.make_node("ReverseSequence", ["r", "lens"], ["rr"], batch_axis=0,
                              time_axis=1),
             helper.make_node("Concat", ["r", "rr"], ["y"], axis=2)]
    model = _model(nodes, [_in("x", np.float32, [2, 5, 3])], [_in("y", np.float32, [2, 5, 6])],
                   inits)
    rng = np.random.default_rng(8)
    _run_check(tmp_path, model, [{"x": _rand(rng, (2, 5, 3), np.float32)}])


def test_error_reverse_sequence_axes(tmp_path):
    model = _model([helper.make_node("ReverseSequence", ["x", "lens"], ["y"], batch_axis=0,
                                     time_axis=2)],
                   [_in("x", np.float32, [2, 5, 3]), _in("lens", np.int64, [2])],
                   [_in("y", np.float32, [2, 5, 3])])
    p = tmp_path / "m.onnx"
    onnx.save(model, str(p))
    with pytest.raises(gatec.Error, match="batch_axis and time_axis must be 0 and 1"):
        gatec.compile(str(p), str(tmp_path / "libm.so"))


def test_expand_dynamic_dims_to_runtime_shape(tmp_path):
    # x's dims are dynamic and the target shape is only known at run time:
    # a dim of x that is 1 at run time broadcasts (it used to be read as if
    # it had the target's size). The sum keeps the output's shape static.
    nodes = [helper.make_node("Expand", ["x", "shape"], ["e"]),
             helper.make_node("Mul", ["e", "w"], ["m"]),
             helper.make_node("ReduceSum", ["m"], ["y"], keepdims=0)]
    w = _const("w", (np.arange(12, dtype=np.float32) + 1).reshape(3, 4))
    model = _model(nodes, [_in("x", np.float32, ["a", "b"]), _in("shape", np.int64, [2])],
                   [_in("y", np.float32, [])], [w], opset=13)
    rng = np.random.default_rng(9)
    feeds = [{"x": _rand(rng, xs, np.float32), "shape": np.array(t, np.int64)}
             for xs, t in (((1, 1), (3, 4)), ((1, 4), (3, 1)), ((3, 1), (1, 4)),
                           ((3, 4), (1, 1)), ((3, 4), (3, 4)))]
    _run_check(tmp_path, model, feeds)
